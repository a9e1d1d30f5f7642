package sparkembed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark UDF: one task of a sub-iteration of train --method sgns. Its argument is the task's
 * spec, "key=value" lines written by sparkembed/stages/train/sgns.py: the files of the word
 * bucket and the context bucket it holds (raw little-endian float32 rows; absent: the
 * initial vectors), the block of pairs to train (m int32 inputs, then m int32 outputs,
 * indices into the buckets), the context bucket's sampling weights (float64), where to
 * write the two buckets after training, and the numbers of the update. Returns {pairs,
 * loss, pairs in the loss, seconds}. Files go through Hadoop's FileSystem, so local paths, HDFS and S3 work
 * alike; a retried task rewrites the same names.
 */
public final class SgnsBlockUdf implements UDF1<String, double[]> {
  private static final long serialVersionUID = 1L;
  private static final int CHUNK = 8 << 20;

  @Override
  public double[] call(String spec) throws IOException {
    long start = System.nanoTime();
    Map<String, String> s = parse(spec);
    int dim = Integer.parseInt(s.get("dim"));
    int nWords = Integer.parseInt(s.get("n_words"));
    int nContexts = Integer.parseInt(s.get("n_contexts"));
    Configuration conf = new Configuration();
    float[] w =
        s.get("words").isEmpty()
            ? SgnsBlock.initialWords(
                readInts(conf, s.get("word_ids"), nWords), dim, Long.parseLong(s.get("init_seed")))
            : readFloats(conf, s.get("words"), (long) nWords * dim);
    float[] c =
        s.get("contexts").isEmpty()
            ? new float[nContexts * dim]
            : readFloats(conf, s.get("contexts"), (long) nContexts * dim);
    int[] pairs = readInts(conf, s.get("pairs"), -1);
    int m = pairs.length / 2;
    check(pairs, 0, m, nWords, "input", s.get("pairs"));
    check(pairs, m, 2 * m, nContexts, "output", s.get("pairs"));
    double[] weights = readDoubles(conf, s.get("weights"), nContexts);
    int[] table = SgnsBlock.unigramTable(weights, Integer.parseInt(s.get("table_size")));
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
    return new double[] {m, loss, sampled, (System.nanoTime() - start) / 1e9};
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

  /** The whole file, little-endian; {@code expected} bytes unless negative (any length). */
  private static ByteBuffer read(Configuration conf, String path, long expected)
      throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(conf);
    long length = fs.getFileStatus(p).getLen();
    if (expected >= 0 && length != expected) {
      throw new IllegalStateException(
          "sgns: " + path + " has " + length + " bytes, expected " + expected);
    }
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("sgns: " + path + " is over 2 GB: use more partitions");
    }
    byte[] bytes = new byte[(int) length];
    try (InputStream input = fs.open(p)) {
      int done = 0;
      while (done < bytes.length) {
        int n = input.read(bytes, done, Math.min(CHUNK, bytes.length - done));
        if (n < 0) {
          throw new IOException("sgns: " + path + " ended early");
        }
        done += n;
      }
    }
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static float[] readFloats(Configuration conf, String path, long count) throws IOException {
    FloatBuffer b = read(conf, path, 4 * count).asFloatBuffer();
    float[] x = new float[b.remaining()];
    b.get(x);
    return x;
  }

  static int[] readInts(Configuration conf, String path, long count) throws IOException {
    IntBuffer b = read(conf, path, count < 0 ? -1 : 4 * count).asIntBuffer();
    int[] x = new int[b.remaining()];
    b.get(x);
    return x;
  }

  static double[] readDoubles(Configuration conf, String path, long count) throws IOException {
    DoubleBuffer b = read(conf, path, 8 * count).asDoubleBuffer();
    double[] x = new double[b.remaining()];
    b.get(x);
    return x;
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
