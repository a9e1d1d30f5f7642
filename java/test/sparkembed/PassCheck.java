package sparkembed;
import java.util.*;
import java.util.function.UnaryOperator;
import java.util.regex.*;
/**
 * Each scanner of Wikitext against java.util.regex with the reference pattern of
 * sparkembed/corpus/wikitext.py (replaceAll = Spark's regexp_replace), on random strings of
 * markup pieces. Usage: PassCheck [strings] [seed]; prints "differences N", exits 1 if N > 0.
 */
public class PassCheck {
  static final String DROP = "math|gallery|timeline|score|syntaxhighlight|source|pre|nowiki|imagemap|chem|hiero|ce|graph|mapframe|templatedata|inputbox|poem|references";
  public static void main(String[] a) {
    String[] pieces = {"{{", "}}", "{|", "|}", "{", "}", "[[", "]]", "[", "]", "|", "<ref>", "</ref>", "<ref name=n/>", "<REF >", "<refé>", "<ref\u0301>", "<!--", "-->", "<", ">", "/", "<math>", "</MATH >", "<ce>", "\n", "\r\n", "\r", " ", "\t", "\u2028", "\u0085", "=", "==", "''", "'''", "__TOC__", "_", "http://", "ftp://", "[http://a.b c d]", "www.", "éwww.y", "\u0301www.z", "x\u0301www.q", "é", "\u0301", ":", "!", "File:", "de:", "en-gb:", "a", "1", "&nbsp;", "&#160;", "&#x41;", "&", ";", "#"};
    Object[][] passes = {
      {"(?is)<!--.*?(?:-->|$)|<ref\\b[^>]*/\\s*>|<ref\\b[^>]*>.*?(?:</ref\\s*>|$)|<(?:" + DROP + ")\\b[^>]*/\\s*>|<(" + DROP + ")\\b[^>]*>.*?(?:</\\1\\s*>|$)", " ", (UnaryOperator<String>) Wikitext::dropElements},
      {"\\{\\{[^{}]*\\}\\}|\\{\\|[^{}]*?\\|\\}", " ", (UnaryOperator<String>) Wikitext::innermostTemplates},
      {"\\{\\{[^\\n]*|\\}\\}", "", (UnaryOperator<String>) Wikitext::templateLeftovers},
      {"\\[\\[\\s*(?i:file|image|media|category|[a-z]{2,3}(?:-[a-z]{2,8})?)\\s*:[^\\[\\]]*\\]\\]|\\[\\[[^\\[\\]|]*\\|([^\\[\\]]*)\\]\\]|\\[\\[([^\\[\\]|]*)\\]\\]", "$1$2", (UnaryOperator<String>) Wikitext::innermostLinks},
      {"\\[(?:https?:|ftp:)?//[^\\s\\]]*\\s*([^\\]]*)\\]", "$1", (UnaryOperator<String>) Wikitext::externalLinks},
      {"(?i)(?:https?|ftp)://[^\\s<>\\]|]*|\\bwww\\.[^\\s<>\\]|]+", "", (UnaryOperator<String>) Wikitext::bareUrls},
      {"(?m)^=+\\s*(.*?)\\s*=+\\s*$", "$1", (UnaryOperator<String>) Wikitext::headings},
      {"'{2,}|__[A-Z]+__", "", (UnaryOperator<String>) Wikitext::quotesAndMagicWords},
      {"<[^<>\\n]*>|&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});", " ", (UnaryOperator<String>) Wikitext::tagsAndEntities},
      {"(?m)^[|!].*$", "", (UnaryOperator<String>) Wikitext::tableLines},
    };
    int n = a.length > 0 ? Integer.parseInt(a[0]) : 200000;
    Random rng = new Random(a.length > 1 ? Long.parseLong(a[1]) : 1);
    int bad = 0;
    for (int t = 0; t < n; t++) {
      StringBuilder b = new StringBuilder();
      int len = rng.nextInt(25);
      for (int k = 0; k < len; k++) b.append(pieces[rng.nextInt(pieces.length)]);
      String s = b.toString();
      for (int p = 0; p < passes.length; p++) {
        @SuppressWarnings("unchecked") UnaryOperator<String> f = (UnaryOperator<String>) passes[p][2];
        String want = Pattern.compile((String) passes[p][0]).matcher(s).replaceAll((String) passes[p][1]);
        String got = f.apply(s);
        if (!want.equals(got)) { if (bad++ < 5) System.out.println("pass " + p + " differs on " + s.replace("\n","\\n").replace("\r","\\r") + "\n want " + want.replace("\n","\\n") + "\n got  " + got.replace("\n","\\n")); }
      }
    }
    System.out.println("java " + System.getProperty("java.version") + ": differences " + bad);
    System.exit(bad == 0 ? 0 : 1);
  }
}
