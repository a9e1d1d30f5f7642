package sparkembed;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.Dependency;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.FileScanRDD;
import org.apache.spark.util.SerializableConfiguration;
import scala.jdk.javaapi.CollectionConverters;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * A records table (readers.RECORD_COLUMNS) to packed batches of sentence tokens, one pass per
 * partition: many documents per output row instead of one row per sentence.
 *
 * <p>Documents are tokenised by SentenceTokenizer (wiki ones with fewer than minArticleTokens
 * tokens left out, as tokenize_documents does) and packed as Arrow-style buffers (UTF-8 bytes
 * and little-endian int32 offsets or lengths), so that the Python side wraps them as Arrow
 * arrays without touching a token: see tokenize/token_files.py, which reads BATCH_SCHEMA. A
 * rejected record passes through as a row of its own (source, reason, excerpt); skipped
 * records are counted in the partition's last row.
 */
public final class TokenBatches {
  /** The output rows' type, in this field order (token_files.BATCH_SCHEMA mirrors it). */
  public static final String SCHEMA =
      "doc_ids binary, doc_offsets binary, doc_valid binary, titles binary,"
          + " title_offsets binary, doc_sentences binary, sentence_lengths binary, tokens binary, token_offsets binary,"
          + " source string, reason string, excerpt string, skipped long,"
          + " file_size long, file_bytes long, file_cut boolean";

  // RECORD_COLUMNS: source, doc_id, title, text, format, status, reason, excerpt
  private static final int SOURCE = 0, DOC_ID = 1, TITLE = 2, TEXT = 3, FORMAT = 4;
  private static final int STATUS = 5, REASON = 6, EXCERPT = 7;
  private static final UTF8String DOCUMENT = UTF8String.fromString("document");
  private static final UTF8String REJECTED = UTF8String.fromString("rejected");
  private static final UTF8String SKIPPED = UTF8String.fromString("skipped");
  private static final UTF8String WIKI = UTF8String.fromString("wiki");

  private TokenBatches() {}

  /** Whether bytes [from, to) of b are all ASCII. */
  static boolean isAscii(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) if (b[i] < 0) return false;
    return true;
  }

  /**
   * Plain-text lines straight from the splits of Spark's planned text scan ({@code scan}: an
   * RDD with a FileScanRDD in its lineage, from readers.scan_text), one task per split, read
   * by TextLineRecords (same records as readers.read_text, without Spark SQL) and packed as
   * {@link #pack} packs records. A split's rows also end with a row per checked file (source,
   * file_size, file_bytes, file_cut): see TextLineRecords.
   */
  public static RDD<InternalRow> packTextLines(
      SparkSession spark,
      RDD<?> scan,
      int maxLineBytes,
      String tooLongReason,
      SentenceTokenizer tokenizer,
      int batchTokens) {
    FileScanRDD files = fileScan(scan);
    if (files == null) throw new IllegalArgumentException("no file scan under " + scan);
    List<FilePartition> splits = new ArrayList<>(CollectionConverters.asJava(files.filePartitions()));
    Configuration conf = spark.sessionState().newHadoopConf();
    // Hadoop's LineRecordReader skips lines longer than this instead of loading them.
    conf.setInt("mapreduce.input.linerecordreader.line.maxlength", maxLineBytes);
    SerializableConfiguration shared = new SerializableConfiguration(conf);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    if (splits.isEmpty()) return jsc.<InternalRow>emptyRDD().rdd();
    FlatMapFunction<Iterator<FilePartition>, InternalRow> f =
        it -> {
          FilePartition split = it.next();
          TextLineRecords lines =
              new TextLineRecords(split, shared.value(), maxLineBytes, tooLongReason);
          return new Packer(lines, tokenizer, 0, batchTokens);
        };
    return jsc.parallelize(splits, splits.size()).mapPartitions(f).rdd();
  }

  private static FileScanRDD fileScan(RDD<?> rdd) {
    if (rdd instanceof FileScanRDD) return (FileScanRDD) rdd;
    for (Dependency<?> d : CollectionConverters.asJava(rdd.dependencies())) {
      FileScanRDD found = fileScan(d.rdd());
      if (found != null) return found;
    }
    return null;
  }

  public static RDD<InternalRow> pack(
      RDD<InternalRow> records,
      SentenceTokenizer tokenizer,
      int minArticleTokens,
      int batchTokens) {
    JavaRDD<InternalRow> in = records.toJavaRDD();
    FlatMapFunction<Iterator<InternalRow>, InternalRow> f =
        rows -> new Packer(rows, tokenizer, minArticleTokens, batchTokens);
    return in.mapPartitions(f).rdd();
  }

  /** Little-endian int32 values, growable. */
  private static final class Ints {
    private int[] values = new int[1024];
    private int size;

    void add(int v) {
      if (size == values.length) values = Arrays.copyOf(values, size * 2);
      values[size++] = v;
    }

    void truncate(int n) {
      size = n;
    }

    int size() {
      return size;
    }

    byte[] bytes() {
      ByteBuffer b = ByteBuffer.allocate(4 * size).order(ByteOrder.LITTLE_ENDIAN);
      b.asIntBuffer().put(values, 0, size);
      return b.array();
    }
  }

  /** UTF-8 strings as Arrow's string layout: data bytes and size + 1 offsets. */
  private static final class Strings {
    private byte[] data = new byte[1 << 16];
    private int size;
    final Ints offsets = new Ints();
    int count;

    Strings() {
      offsets.add(0);
    }

    private void reserve(int more) {
      if (size + more > data.length) {
        data = Arrays.copyOf(data, Math.max(2 * data.length, size + more));
      }
    }

    void add(byte[] utf8) {
      reserve(utf8.length);
      System.arraycopy(utf8, 0, data, size, utf8.length);
      size += utf8.length;
      offsets.add(size);
      count++;
    }

    /** A token, encoded in place when ASCII (most are): no byte[] per token. */
    void add(String s) {
      int n = s.length();
      reserve(n);
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x80) {
          add(s.getBytes(StandardCharsets.UTF_8)); // from the start, in its own bytes
          return;
        }
        data[size + i] = (byte) c;
      }
      size += n;
      offsets.add(size);
      count++;
    }

    /** An ASCII token of letters from ``b``, lowercased if asked. */
    void addAscii(byte[] b, int from, int length, boolean lower) {
      reserve(length);
      if (lower) {
        for (int i = 0; i < length; i++) data[size + i] = (byte) (b[from + i] | 0x20);
      } else {
        System.arraycopy(b, from, data, size, length);
      }
      size += length;
      offsets.add(size);
      count++;
    }

    /** Back to the first ``n`` strings. */
    void truncate(int n) {
      count = n;
      offsets.truncate(n + 1);
      size = offsets.values[n];
    }

    byte[] bytes() {
      return Arrays.copyOf(data, size);
    }
  }

  private static final class Packer implements Iterator<InternalRow> {
    private final Iterator<InternalRow> rows;
    private final SentenceTokenizer tokenizer;
    private final int minArticleTokens;
    private final int batchTokens;
    private final boolean fast; // the default token pattern: ASCII texts take asciiSentences
    private final ArrayList<InternalRow> ready = new ArrayList<>();
    private int next;
    private long skipped;
    private boolean finished;
    private final Strings docIds = new Strings();
    private final ByteArrayOutputStream docValid = new ByteArrayOutputStream();
    private final Strings titles = new Strings();
    private final Ints docSentences = new Ints();
    private final Ints sentenceLengths = new Ints();
    private final Strings tokens = new Strings();

    Packer(Iterator<InternalRow> rows, SentenceTokenizer tok, int minArticleTokens, int batch) {
      this.rows = rows;
      this.tokenizer = tok;
      this.minArticleTokens = minArticleTokens;
      this.batchTokens = batch;
      this.fast = tok.lettersPattern();
    }

    @Override
    public boolean hasNext() {
      if (next < ready.size()) return true;
      ready.clear();
      next = 0;
      if (finished) return false;
      fill();
      return next < ready.size();
    }

    @Override
    public InternalRow next() {
      if (!hasNext()) throw new java.util.NoSuchElementException();
      return ready.get(next++);
    }

    /** Reads records until a batch is full (or the input ends) into ``ready``. */
    private void fill() {
      // The buffers of the previous batch, emptied (grown once per task, not per batch).
      docIds.truncate(0);
      docValid.reset();
      titles.truncate(0);
      docSentences.truncate(0);
      sentenceLengths.truncate(0);
      tokens.truncate(0);
      while (rows.hasNext() && tokens.count < batchTokens) {
        InternalRow r = rows.next();
        UTF8String status = r.getUTF8String(STATUS);
        if (REJECTED.equals(status)) {
          ready.add(
              row(r.getUTF8String(SOURCE), r.getUTF8String(REASON), excerpt(r), 0L));
          continue;
        }
        if (SKIPPED.equals(status)) skipped++;
        if (!DOCUMENT.equals(status) || r.isNullAt(TEXT)) continue;
        boolean wiki = !r.isNullAt(FORMAT) && WIKI.equals(r.getUTF8String(FORMAT));
        int minTokens = wiki ? minArticleTokens : 0;
        UTF8String text = r.getUTF8String(TEXT);
        int nSentences = fast ? asciiSentences(text, minTokens, tokens, sentenceLengths) : -1;
        if (nSentences == 0) continue;
        if (nSentences < 0) { // not ASCII (or another token pattern)
          String[][] sentences = tokenizer.apply(text.toString());
          if (sentences.length == 0) continue;
          int n = 0;
          for (String[] s : sentences) n += s.length;
          if (n < minTokens) continue;
          nSentences = sentences.length;
          for (String[] s : sentences) {
            sentenceLengths.add(s.length);
            for (String t : s) tokens.add(t);
          }
        }
        // A null doc_id (no id field in a record) stays null: one validity byte per document.
        boolean hasId = !r.isNullAt(DOC_ID);
        docIds.add(hasId ? r.getUTF8String(DOC_ID).getBytes() : new byte[0]);
        docValid.write(hasId ? 1 : 0);
        titles.add(r.isNullAt(TITLE) ? new byte[0] : r.getUTF8String(TITLE).getBytes());
        docSentences.add(nSentences);
      }
      if (docIds.count > 0) {
        ready.add(
            new GenericInternalRow(
                new Object[] {
                  docIds.bytes(),
                  docIds.offsets.bytes(),
                  docValid.toByteArray(),
                  titles.bytes(),
                  titles.offsets.bytes(),
                  docSentences.bytes(),
                  sentenceLengths.bytes(),
                  tokens.bytes(),
                  tokens.offsets.bytes(),
                  null,
                  null,
                  null,
                  0L,
                  null,
                  null,
                  null
                }));
      }
      if (!rows.hasNext()) {
        finished = true;
        if (skipped > 0) ready.add(row(null, null, null, skipped));
        if (rows instanceof TextLineRecords) {
          for (Object[] a : ((TextLineRecords) rows).accounts()) {
            Object[] values = new Object[16];
            values[9] = ((UTF8String) a[0]).clone();
            values[12] = 0L;
            values[13] = a[1];
            values[14] = a[2];
            values[15] = a[3];
            ready.add(new GenericInternalRow(values));
          }
        }
      }
    }

    private static final byte LETTER = 1, SPACE = 2, NON_ASCII = 3;
    // Byte classes of the ASCII scanner: SentenceTokenizer's letters (\p{L}) and white
    // space (\s) among ASCII bytes, and the bytes of non-ASCII characters.
    private static final byte[] CLASS = new byte[256];

    static {
      for (int c = 0x80; c < 0x100; c++) CLASS[c] = NON_ASCII;
      for (int c = 'a'; c <= 'z'; c++) CLASS[c] = LETTER;
      for (int c = 'A'; c <= 'Z'; c++) CLASS[c] = LETTER;
      for (char c : new char[] {' ', '\t', '\n', 0x0B, '\f', '\r'}) CLASS[c] = SPACE;
    }

    /**
     * SentenceTokenizer.apply for an ASCII text, on its UTF-8 bytes, in one pass (no String
     * per token, no copy of a text that is a view of a byte array, as TextLineRecords' lines
     * are): its sentences' tokens appended to tokens, their lengths to lengths; the number of
     * sentences, 0 (nothing appended) when it has fewer than minTokens tokens, or -1 (nothing
     * appended) when the text is not all ASCII. Same breaks (a run of white space with a line break in it, or after
     * . ! ?), letters and lowercasing as apply on ASCII (accent folding leaves ASCII as it
     * is). Tokens never span white space, so closing a sentence at the run gives the tokens
     * apply gives for the text between breaks.
     */
    private int asciiSentences(UTF8String text, int minTokens, Strings tokens, Ints lengths) {
      byte[] b;
      int from;
      if (text.getBaseObject() instanceof byte[]) {
        b = (byte[]) text.getBaseObject();
        from = (int) (text.getBaseOffset() - Platform.BYTE_ARRAY_OFFSET);
      } else {
        b = text.getBytes();
        from = 0;
      }
      int to = from + text.numBytes();
      int firstToken = tokens.count;
      int firstSentence = lengths.size();
      boolean split = tokenizer.splitsSentences();
      boolean lower = tokenizer.lowercases();
      int lo = tokenizer.minTokenLength();
      int hi = tokenizer.maxTokenLength();
      boolean stop = tokenizer.hasStopWords();
      int sentence = tokens.count; // first token of the open sentence
      int i = from;
      while (i < to) {
        byte k = CLASS[b[i] & 0xFF];
        if (k == LETTER) {
          int s = i;
          do i++;
          while (i < to && CLASS[b[i] & 0xFF] == LETTER);
          int len = i - s;
          if (len < lo || len > hi) continue;
          if (stop) {
            String t = new String(b, s, len, StandardCharsets.US_ASCII);
            if (tokenizer.isStopWord(lower ? t.toLowerCase(java.util.Locale.ROOT) : t)) continue;
          }
          tokens.addAscii(b, s, len, lower);
        } else if (k == SPACE && split) {
          int e = i;
          boolean newline = false;
          while (e < to && CLASS[b[e] & 0xFF] == SPACE) {
            if (b[e] == '\n') newline = true;
            e++;
          }
          byte before = i > from ? b[i - 1] : 0;
          if (newline || before == '.' || before == '!' || before == '?') {
            closeSentence(sentence, tokens, lengths);
            sentence = tokens.count;
          }
          i = e;
        } else if (k == NON_ASCII) {
          tokens.truncate(firstToken);
          lengths.truncate(firstSentence);
          return -1;
        } else {
          i++;
        }
      }
      closeSentence(sentence, tokens, lengths);
      if (tokens.count - firstToken < Math.max(minTokens, 1)) {
        tokens.truncate(firstToken);
        lengths.truncate(firstSentence);
        return 0;
      }
      return lengths.size() - firstSentence;
    }

    /** The tokens from ``first`` on as a sentence: chunks of maxSentenceLength (none if empty). */
    private void closeSentence(int first, Strings tokens, Ints lengths) {
      int size = tokens.count - first;
      int max = tokenizer.maxSentenceLength();
      for (int c = 0; c < size; c += max) lengths.add(Math.min(max, size - c));
    }

    private static UTF8String excerpt(InternalRow r) {
      return r.isNullAt(EXCERPT) ? UTF8String.EMPTY_UTF8 : r.getUTF8String(EXCERPT).clone();
    }

    /** A row without a batch: a rejected record, or the partition's skipped count. */
    private static InternalRow row(
        UTF8String source, UTF8String reason, UTF8String excerpt, long skipped) {
      return new GenericInternalRow(
          new Object[] {
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            source == null ? null : source.clone(),
            reason == null ? null : reason.clone(),
            excerpt,
            skipped,
            null,
            null,
            null
          });
    }
  }
}
