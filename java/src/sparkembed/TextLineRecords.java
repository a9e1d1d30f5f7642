package sparkembed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.JobID;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.TaskID;
import org.apache.hadoop.mapreduce.TaskType;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.hadoop.mapreduce.lib.input.LineRecordReader;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The records (readers.RECORD_COLUMNS) of plain-text lines, read from one split of Spark's
 * text scan (a FilePartition) by the same Hadoop line reader, without Spark SQL: what
 * readers.read_text and _text_records compute per line, for TokenBatches' Packer.
 *
 * <p>Per line, as in SQL: validity on the bytes read; a trailing \r dropped ({@code left(value,
 * length(value) - 1)}); invalid, too long ({@code >= limit} bytes), blank ({@code trim = ""}:
 * skipped) or a document; doc_id {@code <file name>:<monotonically_increasing_id>}, the id
 * numbering every line of the split from {@code partition index << 33}. For an uncompressed
 * file bigger than the limit, the bytes of the lines read (plus their newlines) and whether a
 * line was cut are summed per file ({@link #accounts}): the driver compares them with the file
 * size to report lines the reader skipped, without a second read.
 */
final class TextLineRecords implements Iterator<InternalRow> {
  private static final UTF8String CR = UTF8String.fromString("\r");
  private static final UTF8String SLASH = UTF8String.fromString("/");
  private static final UTF8String COLON = UTF8String.fromString(":");
  private static final UTF8String TEXT = UTF8String.fromString("text");
  private static final UTF8String DOCUMENT = UTF8String.fromString("document");
  private static final UTF8String REJECTED = UTF8String.fromString("rejected");
  private static final UTF8String SKIPPED = UTF8String.fromString("skipped");
  private static final UTF8String INVALID = UTF8String.fromString("invalid UTF-8");
  private static final UTF8String EMPTY = UTF8String.fromString("empty");
  private static final int EXCERPT_CHARS = 200;

  private final PartitionedFile[] files;
  private final Configuration conf;
  private final int limit;
  private final UTF8String tooLong;
  private final long idBase;
  private final List<Object[]> accounts = new ArrayList<>();
  private int nextFile;
  private LineRecordReader reader;
  private PartitionedFile file;
  private UTF8String source;
  private byte[] idPrefix; // "<file name>:"
  private long row;
  private boolean account;
  private long bytes;
  private boolean cut;
  private InternalRow pending;

  TextLineRecords(FilePartition split, Configuration conf, int limit, String tooLongReason) {
    this.files = split.files();
    this.conf = conf;
    this.limit = limit;
    this.tooLong = UTF8String.fromString(tooLongReason);
    this.idBase = ((long) split.index()) << 33;
  }

  /** (source, file size, bytes of the lines read + newlines, a line cut) per checked file. */
  List<Object[]> accounts() {
    return accounts;
  }

  @Override
  public boolean hasNext() {
    if (pending != null) return true;
    try {
      while (true) {
        if (reader == null) {
          if (nextFile == files.length) return false;
          open(files[nextFile++]);
        }
        if (reader.nextKeyValue()) {
          pending = record(reader.getCurrentValue());
          return true;
        }
        close();
      }
    } catch (IOException e) {
      String path = source == null ? "?" : source.toString();
      throw new UncheckedIOException(
          "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file " + path + ". ", e);
    }
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) throw new NoSuchElementException();
    InternalRow r = pending;
    pending = null;
    return r;
  }

  private void open(PartitionedFile f) throws IOException {
    file = f;
    // _metadata.file_path, as Spark's FileFormat computes it.
    source = UTF8String.fromString(new Path(f.filePath().toPath().toString()).toUri().toString());
    UTF8String name = source.subStringIndex(SLASH, -1);
    idPrefix = UTF8String.concat(name, COLON).getBytes();
    account =
        f.fileSize() > limit && new CompressionCodecFactory(conf).getCodec(f.toPath()) == null;
    bytes = 0;
    cut = false;
    FileSplit fs = new FileSplit(f.toPath(), f.start(), f.length(), new String[0]);
    TaskAttemptID attempt = new TaskAttemptID(new TaskID(new JobID(), TaskType.MAP, 0), 0);
    reader = new LineRecordReader(new byte[] {'\n'});
    reader.initialize(fs, new TaskAttemptContextImpl(conf, attempt));
  }

  private void close() throws IOException {
    reader.close();
    reader = null;
    if (account) accounts.add(new Object[] {source, file.fileSize(), bytes, cut});
  }

  private UTF8String docId() {
    long id = idBase + row++; // >= 0
    int digits = 1;
    for (long v = id; v >= 10; v /= 10) digits++;
    byte[] b = Arrays.copyOf(idPrefix, idPrefix.length + digits);
    for (int i = b.length - 1; i >= idPrefix.length; i--, id /= 10) b[i] = (byte) ('0' + id % 10);
    return UTF8String.fromBytes(b);
  }

  /** A line that is not a document: its id is never read, only counted. */
  private UTF8String skipId() {
    row++;
    return null;
  }

  /** The record of one line (its bytes stay the reader's until the next line is read). */
  private InternalRow record(Text line) {
    int n = line.getLength();
    if (account) {
      bytes += n + 1;
      if (n >= limit) cut = true;
    }
    UTF8String raw = UTF8String.fromBytes(line.getBytes(), 0, n);
    byte[] b = line.getBytes();
    boolean valid = TokenBatches.isAscii(b, 0, n) || raw.isValid();
    UTF8String v = raw.endsWith(CR) ? left(raw, raw.numChars() - 1) : raw;
    UTF8String reason = null;
    UTF8String status = DOCUMENT;
    if (!valid) {
      reason = INVALID;
      status = REJECTED;
    } else if (v.numBytes() >= limit) {
      reason = tooLong;
      status = REJECTED;
    } else if (v.trim().numBytes() == 0) {
      reason = EMPTY;
      status = SKIPPED;
    }
    UTF8String excerpt =
        status == REJECTED ? v.makeValid().substringSQL(1, EXCERPT_CHARS) : null;
    return new GenericInternalRow(
        new Object[] {
          source,
          reason == null ? docId() : skipId(),
          UTF8String.EMPTY_UTF8,
          reason == null ? v : null,
          TEXT,
          status,
          reason,
          excerpt
        });
  }

  /** Spark's left(s, n) on a string. */
  private static UTF8String left(UTF8String s, int n) {
    return n <= 0 ? UTF8String.EMPTY_UTF8 : s.substringSQL(1, n);
  }
}
