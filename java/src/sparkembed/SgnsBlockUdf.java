package sparkembed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark UDF: one task of a sub-iteration of train --method sgns. Its argument is the task's
 * spec, "key=value" lines written by sparkembed/stages/train/sgns.py: the files of the word
 * bucket and the context bucket it holds (raw little-endian float32 rows; absent: the
 * initial vectors), the block of pairs (a folder of sorted pieces of packed pairs,
 * merged into training order; see {@link #readPairs}) and which slice of it to train
 * ("slice=s/S"), the context bucket's sampling
 * weights (float64), where to write the two buckets after training, and the numbers of the
 * update. Returns {pairs, loss, pairs in the loss, seconds}. Files go through Hadoop's
 * FileSystem, so local paths, HDFS and S3 work alike.
 *
 * <p>Each bucket file a task reads is read by that task only, and a block's pairs by the
 * tasks of its S slices one after the other, so once its two buckets and its "done" file
 * (the returned numbers) are written, a task deletes its buckets, and the last slice's task
 * the pairs: the scratch folder holds about one copy of the model, not two. A retried task
 * finds the done file and returns its numbers; one that failed before writing it finds its
 * inputs still there and trains again, to the same result.
 */
public final class SgnsBlockUdf implements UDF1<String, double[]> {
  private static final long serialVersionUID = 1L;
  private static final int CHUNK = 8 << 20;

  @Override
  public double[] call(String spec) throws IOException {
    long start = System.nanoTime();
    Map<String, String> s = parse(spec);
    Configuration conf = new Configuration();
    Path done = new Path(s.get("done"));
    FileSystem doneFs = done.getFileSystem(conf);
    if (doneFs.exists(done)) {
      return readDone(doneFs, done);
    }
    int dim = Integer.parseInt(s.get("dim"));
    int nWords = Integer.parseInt(s.get("n_words"));
    int nContexts = Integer.parseInt(s.get("n_contexts"));
    if ((long) Math.max(nWords, nContexts) * dim > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "sgns: a bucket of " + Math.max(nWords, nContexts) + " words x " + dim
              + " floats does not fit one Java array: use more partitions");
    }
    float[] w =
        s.get("words").isEmpty()
            ? SgnsBlock.initialWords(
                readInts(conf, s.get("word_ids"), nWords), dim, Long.parseLong(s.get("init_seed")))
            : readFloats(conf, s.get("words"), (long) nWords * dim);
    float[] c =
        s.get("contexts").isEmpty()
            ? new float[nContexts * dim]
            : readFloats(conf, s.get("contexts"), (long) nContexts * dim);
    String[] slice = s.getOrDefault("slice", "0/1").split("/");
    int part = Integer.parseInt(slice[0]);
    int parts = Integer.parseInt(slice[1]);
    int[] pairs =
        readPairs(
            conf,
            s.get("pairs"),
            Integer.parseInt(s.get("index_bits")),
            Long.parseLong(s.get("block_pairs")),
            part,
            parts);
    int m = pairs.length / 2;
    check(pairs, 0, m, nWords, "input", s.get("pairs"));
    check(pairs, m, 2 * m, nContexts, "output", s.get("pairs"));
    double[] weights = readDoubles(conf, s.get("weights"), nContexts);
    long[] table = SgnsBlock.aliasTable(weights);
    double loss =
        SgnsBlock.train(
            w,
            c,
            dim,
            pairs,
            table,
            Integer.parseInt(s.get("negative")),
            Double.parseDouble(s.get("alpha_from")),
            Double.parseDouble(s.get("alpha_to")),
            Long.parseLong(s.get("seed")));
    writeFloats(conf, s.get("words_out"), w);
    writeFloats(conf, s.get("contexts_out"), c);
    int sampled = (m + SgnsBlock.LOSS_EVERY - 1) / SgnsBlock.LOSS_EVERY;
    double[] result = {m, loss, sampled, (System.nanoTime() - start) / 1e9};
    writeDone(doneFs, done, result);
    // The block's pairs are read once per slice: removed after the last.
    String[] inputs =
        part == parts - 1
            ? new String[] {"words", "contexts", "pairs"}
            : new String[] {"words", "contexts"};
    for (String input : inputs) {
      if (!s.get(input).isEmpty()) {
        Path p = new Path(s.get(input));
        p.getFileSystem(conf).delete(p, true);
      }
    }
    return result;
  }

  /**
   * Slice {@code part} of {@code parts} of a block's pairs, as m inputs then m outputs, in
   * training order. The block is a folder of pieces, each a sorted run of packed pairs
   * (little-endian int64 in [0, 2^63): the order key's top bits, then the input's and the
   * output's index in {@code bits} bits each; see pack_pairs in sgns.py), merged here. Slice
   * p holds the pairs whose packed value lies in [2^63 p / parts, 2^63 (p + 1) / parts): the
   * key is a hash, so the slices are about equal, and each piece's share is found by binary
   * search and read alone. Hidden files (a writer's temporary) are skipped; the pieces must
   * hold {@code expected} pairs in all.
   */
  static int[] readPairs(
      Configuration conf, String folder, int bits, long expected, int part, int parts)
      throws IOException {
    Path dir = new Path(folder);
    FileSystem fs = dir.getFileSystem(conf);
    List<FileStatus> pieces = new ArrayList<>();
    long total = 0;
    if (fs.exists(dir)) {
      FileStatus[] listed = fs.listStatus(dir);
      Arrays.sort(listed, Comparator.comparing(f -> f.getPath().getName()));
      for (FileStatus f : listed) {
        String name = f.getPath().getName();
        if (f.isFile() && !name.startsWith(".") && name.endsWith(".pairs")) {
          pieces.add(f);
          total += f.getLen() / 8;
        }
      }
    }
    if (total != expected) {
      throw new IllegalStateException(
          "sgns: " + folder + " holds " + total + " pairs, the pair pass wrote " + expected);
    }
    List<long[]> runs = new ArrayList<>();
    long m = 0;
    for (FileStatus f : pieces) {
      long n = f.getLen() / 8;
      try (FSDataInputStream in = fs.open(f.getPath())) {
        long lo = part == 0 ? 0 : lowerBound(in, n, sliceBound(part, parts));
        long hi = part == parts - 1 ? n : lowerBound(in, n, sliceBound(part + 1, parts));
        if (hi > lo) {
          runs.add(readLongSpan(in, f.getPath().toString(), lo, hi - lo));
          m += hi - lo;
        }
      }
    }
    if (2 * m > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "sgns: a slice of " + folder + " holds " + m + " pairs: use more sweeps or partitions");
    }
    int[] out = new int[(int) (2 * m)];
    long mask = (1L << bits) - 1;
    // A k-way merge: a binary heap of run numbers, keyed by each run's next value.
    int[] next = new int[runs.size()];
    int[] heap = new int[runs.size()];
    int size = 0;
    for (int r = 0; r < runs.size(); r++) {
      heap[size++] = r;
      siftUp(heap, size - 1, runs, next);
    }
    for (int i = 0; i < m; i++) {
      int r = heap[0];
      long v = runs.get(r)[next[r]++];
      out[i] = (int) ((v >>> bits) & mask);
      out[(int) m + i] = (int) (v & mask);
      if (next[r] == runs.get(r).length) {
        heap[0] = heap[--size];
      }
      siftDown(heap, size, runs, next);
    }
    return out;
  }

  /** The least packed value of slice p of S: floor(2^63 p / S). */
  static long sliceBound(int p, int parts) {
    return BigInteger.ONE.shiftLeft(63).multiply(BigInteger.valueOf(p))
        .divide(BigInteger.valueOf(parts)).longValueExact();
  }

  /** The first index of a sorted run of n int64 (a file) whose value is at least key. */
  private static long lowerBound(FSDataInputStream in, long n, long key) throws IOException {
    byte[] b = new byte[8];
    ByteBuffer value = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long lo = 0;
    long hi = n;
    while (lo < hi) {
      long mid = (lo + hi) >>> 1;
      in.readFully(mid * 8, b, 0, 8);
      if (value.getLong(0) < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Values [from, from + count) of a file of little-endian int64. */
  private static long[] readLongSpan(FSDataInputStream in, String path, long from, long count)
      throws IOException {
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("sgns: " + path + " holds too many pairs for one array");
    }
    long[] x = new long[(int) count];
    in.seek(from * 8);
    readChunks(in, path, 8 * count, 8,
        (chunk, at) -> chunk.asLongBuffer().get(x, at, chunk.remaining() / 8));
    return x;
  }


  private static long head(int r, List<long[]> runs, int[] next) {
    return runs.get(r)[next[r]];
  }

  private static void siftUp(int[] heap, int i, List<long[]> runs, int[] next) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (head(heap[parent], runs, next) <= head(heap[i], runs, next)) {
        return;
      }
      int t = heap[parent];
      heap[parent] = heap[i];
      heap[i] = t;
      i = parent;
    }
  }

  private static void siftDown(int[] heap, int size, List<long[]> runs, int[] next) {
    int i = 0;
    while (true) {
      int least = i;
      for (int child = 2 * i + 1; child <= 2 * i + 2 && child < size; child++) {
        if (head(heap[child], runs, next) < head(heap[least], runs, next)) {
          least = child;
        }
      }
      if (least == i) {
        return;
      }
      int t = heap[least];
      heap[least] = heap[i];
      heap[i] = t;
      i = least;
    }
  }

  /** The numbers a task returned, one per line (Double.toString: exact), renamed into place. */
  private static void writeDone(FileSystem fs, Path done, double[] result) throws IOException {
    StringBuilder text = new StringBuilder();
    for (double x : result) {
      text.append(x).append('\n');
    }
    Path tmp = new Path(done.getParent(), "." + done.getName() + "." + System.nanoTime());
    try (OutputStream output = fs.create(tmp, true)) {
      output.write(text.toString().getBytes(StandardCharsets.UTF_8));
    }
    fs.delete(done, false);
    if (!fs.rename(tmp, done)) {
      throw new IOException("sgns: cannot rename " + tmp + " to " + done);
    }
  }

  private static double[] readDone(FileSystem fs, Path done) throws IOException {
    String text;
    try (InputStream input = fs.open(done)) {
      text = new String(input.readAllBytes(), StandardCharsets.UTF_8);
    }
    String[] lines = text.strip().split("\n");
    double[] result = new double[lines.length];
    for (int i = 0; i < lines.length; i++) {
      result[i] = Double.parseDouble(lines[i]);
    }
    return result;
  }

  static Map<String, String> parse(String spec) {
    Map<String, String> s = new HashMap<>();
    for (String line : spec.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        s.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return s;
  }

  private static void check(int[] index, int from, int to, int n, String what, String path) {
    for (int a = from; a < to; a++) {
      int i = index[a];
      if (i < 0 || i >= n) {
        throw new IllegalStateException(
            "sgns: " + path + " has an " + what + " index " + i + " outside 0.." + (n - 1));
      }
    }
  }

  /** Takes a chunk of a file (little-endian, a whole number of values) at value index at. */
  private interface Chunks {
    void put(ByteBuffer chunk, int at);
  }

  /**
   * Reads a file of {@code width}-byte values chunk by chunk (no copy of the whole file);
   * {@code expected} values unless negative (any number). Returns the number of values,
   * after {@code allocate} got it and {@code sink} every chunk.
   */
  private static int read(
      Configuration conf,
      String path,
      long expected,
      int width,
      IntConsumer allocate,
      Chunks sink)
      throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(conf);
    long length = fs.getFileStatus(p).getLen();
    if (expected >= 0 && length != expected * width) {
      throw new IllegalStateException(
          "sgns: " + path + " has " + length + " bytes, expected " + expected * width);
    }
    if (length % width != 0 || length / width > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "sgns: " + path + " has " + length + " bytes: not " + width + "-byte values that fit"
              + " one Java array (use more partitions)");
    }
    int values = (int) (length / width);
    allocate.accept(values);
    try (InputStream input = fs.open(p)) {
      readChunks(input, path, length, width, sink);
    }
    return values;
  }

  /** Reads {@code length} bytes of {@code width}-byte values from where input stands. */
  private static void readChunks(InputStream input, String path, long length, int width, Chunks sink)
      throws IOException {
    byte[] bytes = new byte[(int) Math.min(CHUNK, length)];
    long done = 0;
    while (done < length) {
      int want = (int) Math.min(bytes.length, length - done);
      int got = 0;
      while (got < want) {
        int n = input.read(bytes, got, want - got);
        if (n < 0) {
          throw new IOException("sgns: " + path + " ended early");
        }
        got += n;
      }
      ByteBuffer chunk = ByteBuffer.wrap(bytes, 0, want).order(ByteOrder.LITTLE_ENDIAN);
      sink.put(chunk, (int) (done / width));
      done += want;
    }
  }

  static float[] readFloats(Configuration conf, String path, long count) throws IOException {
    float[][] x = new float[1][];
    read(conf, path, count, 4, n -> x[0] = new float[n],
        (chunk, at) -> chunk.asFloatBuffer().get(x[0], at, chunk.remaining() / 4));
    return x[0];
  }

  static int[] readInts(Configuration conf, String path, long count) throws IOException {
    int[][] x = new int[1][];
    read(conf, path, count, 4, n -> x[0] = new int[n],
        (chunk, at) -> chunk.asIntBuffer().get(x[0], at, chunk.remaining() / 4));
    return x[0];
  }

  static double[] readDoubles(Configuration conf, String path, long count) throws IOException {
    double[][] x = new double[1][];
    read(conf, path, count, 8, n -> x[0] = new double[n],
        (chunk, at) -> chunk.asDoubleBuffer().get(x[0], at, chunk.remaining() / 8));
    return x[0];
  }

  /** Writes a hidden temporary file, then renames it over {@code path}. */
  static void writeFloats(Configuration conf, String path, float[] x) throws IOException {
    Path target = new Path(path);
    FileSystem fs = target.getFileSystem(conf);
    Path tmp = new Path(target.getParent(), "." + target.getName() + "." + System.nanoTime());
    ByteBuffer buffer = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream output = fs.create(tmp, true)) {
      int i = 0;
      while (i < x.length) {
        buffer.clear();
        int n = Math.min(CHUNK / 4, x.length - i);
        buffer.asFloatBuffer().put(x, i, n);
        output.write(buffer.array(), 0, 4 * n);
        i += n;
      }
    }
    fs.delete(target, false);
    if (!fs.rename(tmp, target)) {
      throw new UncheckedIOException(new IOException("sgns: cannot rename " + tmp + " to " + path));
    }
  }
}
