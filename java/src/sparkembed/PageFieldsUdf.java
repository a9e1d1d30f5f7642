package sparkembed;

import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Spark UDF: one raw dump record (its bytes) to the fields read_wiki computes, in one pass.
 *
 * <p>Same results as read_wiki's Spark SQL expressions (the reference): the bytes are judged
 * and decoded by Spark's own UTF8String (is_valid_utf8, the String a regex sees, make_valid_utf8),
 * and each hand-written search below has the semantics of the regex it replaces (first match
 * wins; the body runs greedily to the last {@code </text>}). {@code clean} is the cleaned body
 * (Wikitext.cleanPage), computed only for a page that will be a document, so the page text is
 * decoded once. The struct type is udfs.PAGE_FIELDS_RETURN (Python), in this field order.
 */
public final class PageFieldsUdf implements UDF1<byte[], Row> {
  private static final long serialVersionUID = 1L;
  private static final Pattern TRAILER = Pattern.compile("^\\s*(</mediawiki>\\s*)?$");
  private static final int EXCERPT_CHARS = 200;

  private final long maxRecordBytes;

  public PageFieldsUdf(long maxRecordBytes) {
    this.maxRecordBytes = maxRecordBytes;
  }

  /**
   * Registers the parser as {@code name}, marked nondeterministic (see udfs.py for why).
   *
   * <p>Done here, not through py4j: {@code functions.udf} has an untyped overload {@code
   * udf(Object, DataType)} that py4j may pick instead of {@code udf(UDF1, DataType)},
   * depending on the order the JVM lists the methods in, and Spark refuses it.
   */
  public static void register(
      SparkSession spark, String name, long maxRecordBytes, DataType returnType) {
    spark
        .udf()
        .register(
            name, functions.udf(new PageFieldsUdf(maxRecordBytes), returnType).asNondeterministic());
  }

  @Override
  public Row call(byte[] bytes) {
    if (bytes == null) return null;
    UTF8String raw = UTF8String.fromBytes(bytes);
    boolean valid = raw.isValid();
    boolean tooLong = bytes.length >= maxRecordBytes;
    String v = raw.toString();
    boolean hasPage = v.contains("<page>");
    // rlike is find(); with '^' (not multiline) only a match at 0 counts: lookingAt.
    boolean trailer = TRAILER.matcher(v).lookingAt();
    String ns = number(v, "<ns>", "</ns>", true);
    String pageId = number(v, "<id>", "</id>", false);
    String title = Wikitext.unescapeXml(title(v));
    boolean redirect = v.contains("<redirect");
    boolean textEmpty = textEmpty(v);
    boolean textOpen = textOpen(v);
    boolean textClose = v.contains("</text>");
    String body = body(v);
    // make_valid_utf8 of a valid string is itself; an invalid one is left to Spark (null here).
    String head = valid ? prefix(v, EXCERPT_CHARS) : null;
    // The document test of read_wiki's reason chain: clean only what will be kept.
    boolean document =
        valid
            && !tooLong
            && hasPage
            && !title.isEmpty()
            && ns.equals("0")
            && !pageId.isEmpty()
            && !redirect
            && !textEmpty
            && textOpen
            && textClose;
    String clean = document ? Wikitext.cleanPage(body) : null;
    return RowFactory.create(
        valid, tooLong, hasPage, trailer, ns, pageId, title, redirect, textEmpty, textOpen,
        textClose, body, head, clean);
  }

  /** Java regex \s: [ \t\n\x0B\f\r]. */
  private static boolean space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
  }

  private static boolean digit(char c) {
    return c >= '0' && c <= '9';
  }

  /** Group 1 of {@code open\s*(-?\d+)\s*close} (sign only if {@code signed}), else "". */
  static String number(String s, String open, String close, boolean signed) {
    int n = s.length();
    for (int p = s.indexOf(open); p >= 0; p = s.indexOf(open, p + 1)) {
      int i = p + open.length();
      while (i < n && space(s.charAt(i))) i++;
      int start = i;
      if (signed && i < n && s.charAt(i) == '-') i++;
      int digits = i;
      while (i < n && digit(s.charAt(i))) i++;
      if (i == digits) continue;
      int end = i;
      while (i < n && space(s.charAt(i))) i++;
      if (s.startsWith(close, i)) return s.substring(start, end);
    }
    return "";
  }

  /** Group 1 of {@code <title>([^<]*)</title>}, else "". */
  static String title(String s) {
    for (int p = s.indexOf("<title>"); p >= 0; p = s.indexOf("<title>", p + 1)) {
      int start = p + 7;
      int lt = s.indexOf('<', start);
      if (lt < 0) return "";
      if (s.startsWith("</title>", lt)) return s.substring(start, lt);
    }
    return "";
  }

  /** {@code <text[^>]*}{@code />} found: some "<text" whose first '>' after it follows '/'. */
  static boolean textEmpty(String s) {
    for (int p = s.indexOf("<text"); p >= 0; p = s.indexOf("<text", p + 1)) {
      int gt = s.indexOf('>', p + 5);
      if (gt < 0) return false;
      if (gt - 1 >= p + 5 && s.charAt(gt - 1) == '/') return true;
    }
    return false;
  }

  /** {@code <text[\s>]} found. */
  static boolean textOpen(String s) {
    for (int p = s.indexOf("<text"); p >= 0; p = s.indexOf("<text", p + 1)) {
      if (p + 5 < s.length()) {
        char c = s.charAt(p + 5);
        if (c == '>' || space(c)) return true;
      }
    }
    return false;
  }

  /**
   * Group 1 of {@code (?s)<text[^>]*>(.*)</text>}: from after the first '>' following the first
   * "<text" to the last "</text>" (greedy). If that attempt fails, so would every later "<text".
   */
  static String body(String s) {
    int p = s.indexOf("<text");
    if (p < 0) return "";
    int gt = s.indexOf('>', p + 5);
    if (gt < 0) return "";
    int close = s.lastIndexOf("</text>");
    if (close < gt + 1) return "";
    return s.substring(gt + 1, close);
  }

  /** The first {@code n} code points (Spark's substring counts code points). */
  static String prefix(String s, int n) {
    int len = s.length();
    if (len <= n) return s;
    int i = 0;
    for (int k = 0; k < n && i < len; k++) {
      boolean pair =
          Character.isHighSurrogate(s.charAt(i))
              && i + 1 < len
              && Character.isLowSurrogate(s.charAt(i + 1));
      i += pair ? 2 : 1;
    }
    return s.substring(0, i);
  }
}
