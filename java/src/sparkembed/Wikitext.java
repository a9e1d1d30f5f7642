package sparkembed;

/**
 * Wikitext to plain text with hand-written scanners: the same result as the regular
 * expression chain of sparkembed/corpus/wikitext.py (the reference), pass for pass, at a
 * fraction of the cost. Each pass reproduces one regexp_replace of that chain exactly,
 * including java.util.regex's backtracking, line-terminator and word-boundary rules (JDK 17);
 * the comment above each pass quotes its pattern. A pass returns its input unchanged when
 * nothing matched, which lets the repeated passes stop early.
 */
public final class Wikitext {
  private Wikitext() {}

  static final int TEMPLATE_PASSES = 5;
  static final int LINK_PASSES = 3;

  /** Tags whose content is not prose (wikitext.py _DROP_ELEMENTS, same order). */
  static final String[] DROP_ELEMENTS = {
    "math", "gallery", "timeline", "score", "syntaxhighlight", "source", "pre", "nowiki",
    "imagemap", "chem", "hiero", "ce", "graph", "mapframe", "templatedata", "inputbox", "poem",
    "references"
  };

  /** unescape_xml then clean_wikitext. */
  public static String cleanPage(String escaped) {
    return clean(unescapeXml(escaped));
  }

  /** The five XML entities; one left-to-right scan equals the five replace passes. */
  public static String unescapeXml(String s) {
    int amp = s.indexOf('&');
    if (amp < 0) return s;
    StringBuilder out = new StringBuilder(s.length());
    int copied = 0;
    int i = amp;
    while (i >= 0) {
      char r = 0;
      int len = 0;
      if (s.startsWith("lt;", i + 1)) {
        r = '<';
        len = 4;
      } else if (s.startsWith("gt;", i + 1)) {
        r = '>';
        len = 4;
      } else if (s.startsWith("quot;", i + 1)) {
        r = '"';
        len = 6;
      } else if (s.startsWith("apos;", i + 1)) {
        r = '\'';
        len = 6;
      } else if (s.startsWith("amp;", i + 1)) {
        r = '&';
        len = 5;
      }
      if (len > 0) {
        out.append(s, copied, i).append(r);
        copied = i + len;
        i = s.indexOf('&', copied);
      } else {
        i = s.indexOf('&', i + 1);
      }
    }
    out.append(s, copied, s.length());
    return out.toString();
  }

  public static String clean(String s) {
    s = dropElements(s);
    for (int p = 0; p < TEMPLATE_PASSES; p++) {
      String t = innermostTemplates(s);
      if (t == s) break;
      s = t;
    }
    s = templateLeftovers(s);
    for (int p = 0; p < LINK_PASSES; p++) {
      String t = innermostLinks(s);
      if (t == s) break;
      s = t;
    }
    s = externalLinks(s);
    s = bareUrls(s);
    s = headings(s);
    s = quotesAndMagicWords(s);
    s = tagsAndEntities(s);
    s = tableLines(s);
    return s;
  }

  /**
   * The next position of either of two characters, with String.indexOf (vectorised by the
   * JIT) instead of a char-by-char loop: most of a page holds neither.
   */
  static final class Finder {
    private final String s;
    private final char a;
    private final char b;
    private int nextA = -2;
    private int nextB = -2;

    Finder(String s, char a, char b) {
      this.s = s;
      this.a = a;
      this.b = b;
    }

    /** The first position >= from holding a or b, or -1. */
    int next(int from) {
      if (nextA != -1 && nextA < from) nextA = s.indexOf(a, from);
      if (nextB != -1 && nextB < from) nextB = s.indexOf(b, from);
      if (nextA < 0) return nextB;
      if (nextB < 0) return nextA;
      return Math.min(nextA, nextB);
    }
  }

  // ---------------------------------------------------------------- character classes

  /** Java regex \s (without UNICODE_CHARACTER_CLASS): [ \t\n\x0B\f\r]. */
  static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
  }

  /** Line terminators of java.util.regex (not UNIX_LINES). */
  static boolean isLineTerminator(char c) {
    return c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  static boolean isAsciiDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /**
   * Does the running JDK's \b count non-ASCII letters and digits as word characters? JDK 17
   * does; JDK 19 made \b agree with the ASCII-only \w. Probed once, so the scanners follow
   * the same JDK as the regexes they replace.
   */
  static final boolean UNICODE_WORD_BOUNDARY =
      !java.util.regex.Pattern.compile("\\bx").matcher("\u00e9x").find();

  /** A word character for \b (Pattern.Bound.isWord). */
  private static boolean isWord(int cp) {
    if (UNICODE_WORD_BOUNDARY) return cp == '_' || Character.isLetterOrDigit(cp);
    return cp == '_' || (cp < 0x80 && Character.isLetterOrDigit(cp));
  }

  private static boolean hasBaseCharacter(String s, int i) {
    for (int x = i; x >= 0; x--) {
      int cp = s.codePointAt(x);
      if (Character.isLetterOrDigit(cp)) return true;
      if (Character.getType(cp) == Character.NON_SPACING_MARK) continue;
      return false;
    }
    return false;
  }

  /** Is the character at i a word character for \b (Pattern.Bound.check, right side)? */
  static boolean wordAt(String s, int i) {
    if (i >= s.length()) return false;
    int cp = s.codePointAt(i);
    return isWord(cp)
        || (Character.getType(cp) == Character.NON_SPACING_MARK && hasBaseCharacter(s, i));
  }

  /** Is the character before i a word character for \b (Pattern.Bound.check, left side)? */
  static boolean wordBefore(String s, int i) {
    if (i <= 0) return false;
    int cp = s.codePointBefore(i);
    return isWord(cp)
        || (Character.getType(cp) == Character.NON_SPACING_MARK && hasBaseCharacter(s, i - 1));
  }

  /** ASCII case-insensitive region match ((?i) without UNICODE_CASE). */
  static boolean matchesIgnoreCase(String s, int i, String lowerWord) {
    int n = lowerWord.length();
    if (i + n > s.length()) return false;
    for (int k = 0; k < n; k++) {
      char c = s.charAt(i + k);
      if (c >= 'A' && c <= 'Z') c = (char) (c + 32);
      if (c != lowerWord.charAt(k)) return false;
    }
    return true;
  }

  /** Non-MULTILINE $ at i (Pattern.Dollar): end, or before a final line terminator. */
  static boolean dollarAtEnd(String s, int i) {
    int n = s.length();
    if (i < n - 2) return false;
    if (i == n - 2) {
      return s.charAt(i) == '\r' && s.charAt(i + 1) == '\n';
    }
    if (i < n) {
      char c = s.charAt(i);
      if (c == '\n') return !(i > 0 && s.charAt(i - 1) == '\r');
      return c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
    }
    return true;
  }

  /** The first position >= from where non-MULTILINE $ matches. */
  static int firstDollar(String s, int from) {
    int n = s.length();
    for (int i = Math.max(from, n - 2); i <= n; i++) {
      if (dollarAtEnd(s, i)) return i;
    }
    return n; // unreachable: $ always matches at the end
  }

  /** MULTILINE $ at i. */
  static boolean dollarMultiline(String s, int i) {
    if (i >= s.length()) return true;
    char c = s.charAt(i);
    if (c == '\n') return !(i > 0 && s.charAt(i - 1) == '\r');
    return c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  /** MULTILINE ^ at i (Pattern.Caret): never at the very end, not inside \r\n. */
  static boolean caretMultiline(String s, int i) {
    if (i >= s.length()) return false;
    if (i == 0) return true;
    char p = s.charAt(i - 1);
    if (!isLineTerminator(p)) return false;
    return !(p == '\r' && s.charAt(i) == '\n');
  }

  // ---------------------------------------------------------------- passes

  /**
   * (?is)&lt;!--.*?(?:--&gt;|$)|&lt;ref\b[^&gt;]*&#47;\s*&gt;|&lt;ref\b[^&gt;]*&gt;.*?(?:&lt;&#47;ref\s*&gt;|$)
   * |&lt;(?:DROP)\b[^&gt;]*&#47;\s*&gt;|&lt;(DROP)\b[^&gt;]*&gt;.*?(?:&lt;&#47;\1\s*&gt;|$) → " ".
   */
  static String dropElements(String s) {
    int n = s.length();
    int i = s.indexOf('<');
    if (i < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    while (i >= 0 && i < n) {
      int end = dropElementAt(s, i);
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i).append(' ');
        copied = end;
        i = s.indexOf('<', end);
      } else {
        i = s.indexOf('<', i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** End of the pass-1 match at i (s[i] == '<'), or -1. */
  private static int dropElementAt(String s, int i) {
    if (s.startsWith("!--", i + 1)) {
      int close = s.indexOf("-->", i + 4);
      int dollar = firstDollar(s, i + 4);
      return (close >= 0 && close < dollar) ? close + 3 : dollar;
    }
    if (matchesIgnoreCase(s, i + 1, "ref") && !wordAt(s, i + 4)) {
      int end = selfClosingEnd(s, i + 4);
      if (end >= 0) return end;
      end = pairedEnd(s, i + 4, "ref");
      if (end >= 0) return end;
    }
    for (String name : DROP_ELEMENTS) {
      int after = i + 1 + name.length();
      if (matchesIgnoreCase(s, i + 1, name) && !wordAt(s, after)) {
        int end = selfClosingEnd(s, after);
        if (end >= 0) return end;
        end = pairedEnd(s, after, name);
        if (end >= 0) return end;
        // Another name cannot match here too (the \b after it would fail).
        return -1;
      }
    }
    return -1;
  }

  /** [^&gt;]*&#47;\s*&gt; from j: end after '&gt;', or -1. */
  private static int selfClosingEnd(String s, int j) {
    int gt = s.indexOf('>', j);
    if (gt < 0) return -1;
    int k = gt - 1;
    while (k >= j && isSpace(s.charAt(k))) k--;
    return (k >= j && s.charAt(k) == '/') ? gt + 1 : -1;
  }

  /** [^&gt;]*&gt;.*?(?:&lt;&#47;NAME\s*&gt;|$) from j: end, or -1 when there is no '&gt;'. */
  private static int pairedEnd(String s, int j, String name) {
    int gt = s.indexOf('>', j);
    if (gt < 0) return -1;
    int dollar = firstDollar(s, gt + 1);
    int p = s.indexOf("</", gt + 1);
    while (p >= 0 && p < dollar) {
      if (matchesIgnoreCase(s, p + 2, name)) {
        int k = p + 2 + name.length();
        while (k < s.length() && isSpace(s.charAt(k))) k++;
        if (k < s.length() && s.charAt(k) == '>') return k + 1;
      }
      p = s.indexOf("</", p + 1);
    }
    return dollar;
  }

  /** \{\{[^{}]*\}\}|\{\|[^{}]*?\|\} → " ". */
  static String innermostTemplates(String s) {
    int n = s.length();
    int i = s.indexOf('{');
    if (i < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    while (i >= 0 && i + 1 < n) {
      char next = s.charAt(i + 1);
      int end = -1;
      if (next == '{') {
        int k = i + 2;
        while (k < n && s.charAt(k) != '{' && s.charAt(k) != '}') k++;
        if (k + 1 < n && s.charAt(k) == '}' && s.charAt(k + 1) == '}') end = k + 2;
      } else if (next == '|') {
        for (int k = i + 2; k < n; k++) {
          char c = s.charAt(k);
          if (c == '|' && k + 1 < n && s.charAt(k + 1) == '}') {
            end = k + 2;
            break;
          }
          if (c == '{' || c == '}') break;
        }
      }
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i).append(' ');
        copied = end;
        i = s.indexOf('{', end);
      } else {
        i = s.indexOf('{', i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** \{\{[^\n]*|\}\} → "". */
  static String templateLeftovers(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    Finder braces = new Finder(s, '{', '}');
    int i = braces.next(0);
    while (i >= 0 && i + 1 < n) {
      char c = s.charAt(i);
      if (c == '{' && s.charAt(i + 1) == '{') {
        int end = s.indexOf('\n', i + 2);
        if (end < 0) end = n;
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i);
        copied = end;
        i = braces.next(end);
      } else if (c == '}' && s.charAt(i + 1) == '}') {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i);
        copied = i + 2;
        i = braces.next(i + 2);
      } else {
        i = braces.next(i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** First position >= k of '[', ']' (or '|' when stopAtPipe), or n. */
  private static int nextStop(String s, int k, boolean stopAtPipe) {
    int n = s.length();
    while (k < n) {
      char c = s.charAt(k);
      if (c == '[' || c == ']' || (stopAtPipe && c == '|')) return k;
      k++;
    }
    return n;
  }

  private static boolean closesAt(String s, int k) {
    return k + 1 < s.length() && s.charAt(k) == ']' && s.charAt(k + 1) == ']';
  }

  /**
   * \[\[\s*(?i:file|image|media|category|[a-z]{2,3}(?:-[a-z]{2,8})?)\s*:[^\[\]]*\]\]
   * |\[\[[^\[\]|]*\|([^\[\]]*)\]\]|\[\[([^\[\]|]*)\]\] → "$1$2".
   */
  static String innermostLinks(String s) {
    int n = s.length();
    int i = s.indexOf("[[");
    if (i < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    while (i >= 0) {
      int end = -1;
      int keepFrom = 0;
      int keepTo = 0;
      int drop = dropLinkEnd(s, i);
      if (drop >= 0) {
        end = drop;
      } else {
        int k = nextStop(s, i + 2, true);
        if (k < n && s.charAt(k) == '|') {
          int j = nextStop(s, k + 1, false);
          if (closesAt(s, j)) {
            end = j + 2;
            keepFrom = k + 1;
            keepTo = j;
          }
        } else if (closesAt(s, k)) {
          end = k + 2;
          keepFrom = i + 2;
          keepTo = k;
        }
      }
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i).append(s, keepFrom, keepTo);
        copied = end;
        i = s.indexOf("[[", end);
      } else {
        i = s.indexOf("[[", i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  private static int dropLinkEnd(String s, int i) {
    int n = s.length();
    int k = i + 2;
    while (k < n && isSpace(s.charAt(k))) k++;
    int start = k;
    while (k < n && isAsciiLetter(s.charAt(k))) k++;
    int len = k - start;
    boolean named =
        (len == 4 && matchesIgnoreCase(s, start, "file"))
            || (len == 5
                && (matchesIgnoreCase(s, start, "image") || matchesIgnoreCase(s, start, "media")))
            || (len == 8 && matchesIgnoreCase(s, start, "category"));
    if (!named) {
      if (len < 2 || len > 3) return -1;
      if (k < n && s.charAt(k) == '-') {
        int m = k + 1;
        while (m < n && isAsciiLetter(s.charAt(m))) m++;
        if (m - (k + 1) >= 2 && m - (k + 1) <= 8) k = m;
      }
    }
    while (k < n && isSpace(s.charAt(k))) k++;
    if (k >= n || s.charAt(k) != ':') return -1;
    int j = nextStop(s, k + 1, false);
    return closesAt(s, j) ? j + 2 : -1;
  }

  private static boolean startsWithAt(String s, int i, String word) {
    return s.startsWith(word, i);
  }

  /** \[(?:https?:|ftp:)?//[^\s\]]*\s*([^\]]*)\] → "$1". */
  static String externalLinks(String s) {
    int n = s.length();
    int i = s.indexOf('[');
    if (i < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    while (i >= 0) {
      int k = i + 1;
      if (startsWithAt(s, k, "https:")) k += 6;
      else if (startsWithAt(s, k, "http:")) k += 5;
      else if (startsWithAt(s, k, "ftp:")) k += 4;
      if (!startsWithAt(s, k, "//")) k = i + 1; // the optional prefix backtracks
      int end = -1;
      int keepFrom = 0;
      int close = -1;
      if (startsWithAt(s, k, "//")) {
        close = s.indexOf(']', k + 2);
        if (close >= 0) {
          int m = k + 2;
          while (m < close && !isSpace(s.charAt(m))) m++;
          while (m < close && isSpace(s.charAt(m))) m++;
          keepFrom = m;
          end = close + 1;
        }
      }
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i).append(s, keepFrom, close);
        copied = end;
        i = s.indexOf('[', end);
      } else {
        i = s.indexOf('[', i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  private static boolean urlChar(char c) {
    return !(isSpace(c) || c == '<' || c == '>' || c == ']' || c == '|');
  }

  /** (?i)(?:https?|ftp)://[^\s&lt;&gt;\]|]*|\bwww\.[^\s&lt;&gt;\]|]+ → "". */
  static String bareUrls(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    // Where a match can start: 3 to 5 characters before a "://", or at a 'w'.
    Finder ws = new Finder(s, 'w', 'W');
    int colon = -2;
    int i = 0;
    while (true) {
      if (colon != -1 && colon < i + 3) colon = s.indexOf("://", i + 3);
      int w = ws.next(i);
      int scheme = colon < 0 ? -1 : Math.max(i, colon - 5);
      i = scheme < 0 ? w : (w < 0 ? scheme : Math.min(scheme, w));
      if (i < 0) break;
      char c = s.charAt(i);
      int end = -1;
      if (c == 'h' || c == 'H') {
        int k = -1;
        if (matchesIgnoreCase(s, i, "https://")) k = i + 8;
        else if (matchesIgnoreCase(s, i, "http://")) k = i + 7;
        if (k >= 0) {
          while (k < n && urlChar(s.charAt(k))) k++;
          end = k;
        }
      } else if (c == 'f' || c == 'F') {
        if (matchesIgnoreCase(s, i, "ftp://")) {
          int k = i + 6;
          while (k < n && urlChar(s.charAt(k))) k++;
          end = k;
        }
      } else if (c == 'w' || c == 'W') {
        if (matchesIgnoreCase(s, i, "www.") && !wordBefore(s, i)) {
          int k = i + 4;
          while (k < n && urlChar(s.charAt(k))) k++;
          if (k > i + 4) end = k;
        }
      }
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i);
        copied = end;
        i = end;
      } else {
        i++;
      }
      if (i >= n) break;
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** (?m)^=+\s*(.*?)\s*=+\s*$ → "$1". */
  static String headings(String s) {
    int n = s.length();
    if (s.indexOf('=') < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    int i = s.indexOf('=');
    while (i >= 0) {
      if (caretMultiline(s, i)) {
        int[] m = headingAt(s, i);
        if (m != null) {
          if (out == null) out = new StringBuilder(n);
          out.append(s, copied, i).append(s, m[1], m[2]);
          copied = m[0];
          i = s.indexOf('=', m[0]);
          continue;
        }
      }
      i = s.indexOf('=', i + 1);
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** {end, groupStart, groupEnd} of a heading match at line start i, or null. */
  private static int[] headingAt(String s, int i) {
    int n = s.length();
    int a = i;
    while (a < n && s.charAt(a) == '=') a++;
    int b = a;
    while (b < n && isSpace(s.charAt(b))) b++;
    // (.*?) grows lazily from b over characters that are not line terminators.
    for (int p = b; p <= n; p++) {
      // A position inside a white-space run fails like the run's first position did.
      boolean repeat = p > b && isSpace(s.charAt(p - 1)) && p < n && isSpace(s.charAt(p));
      if (!repeat) {
        int end = headingSuffix(s, p);
        if (end >= 0) return new int[] {end, b, p};
      }
      if (p == n || isLineTerminator(s.charAt(p))) break;
    }
    // Backtracking the leading =+ by one: an empty heading of '='s and white space.
    if (a - i >= 2) {
      int end = headingSuffix(s, a - 1);
      if (end >= 0) return new int[] {end, a - 1, a - 1};
    }
    return null;
  }

  /** \s*=+\s*$ (MULTILINE) from p: the end of the longest match, or -1. */
  private static int headingSuffix(String s, int p) {
    int n = s.length();
    int q = p;
    while (q < n && isSpace(s.charAt(q))) q++;
    if (q >= n || s.charAt(q) != '=') return -1;
    int r = q;
    while (r < n && s.charAt(r) == '=') r++;
    int t = r;
    while (t < n && isSpace(s.charAt(t))) t++;
    for (int u = t; u >= r; u--) {
      if (dollarMultiline(s, u)) return u;
    }
    return -1;
  }

  /** '{2,}|__[A-Z]+__ → "". */
  static String quotesAndMagicWords(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    Finder marks = new Finder(s, '\'', '_');
    int i = marks.next(0);
    while (i >= 0 && i + 1 < n) {
      char c = s.charAt(i);
      int end = -1;
      if (c == '\'' && s.charAt(i + 1) == '\'') {
        end = i + 2;
        while (end < n && s.charAt(end) == '\'') end++;
      } else if (c == '_' && s.charAt(i + 1) == '_') {
        int k = i + 2;
        while (k < n && s.charAt(k) >= 'A' && s.charAt(k) <= 'Z') k++;
        if (k > i + 2 && k + 1 < n && s.charAt(k) == '_' && s.charAt(k + 1) == '_') end = k + 2;
      }
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i);
        copied = end;
        i = marks.next(end);
      } else {
        i = marks.next(i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  private static boolean isHexDigit(char c) {
    return isAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /**
   * &lt;[^&lt;&gt;\n]*&gt;|&amp;(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}); → " ".
   */
  static String tagsAndEntities(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    Finder starts = new Finder(s, '<', '&');
    int i = starts.next(0);
    while (i >= 0) {
      char c = s.charAt(i);
      int end = -1;
      if (c == '<') {
        int k = i + 1;
        while (k < n) {
          char d = s.charAt(k);
          if (d == '<' || d == '>' || d == '\n') break;
          k++;
        }
        if (k < n && s.charAt(k) == '>') end = k + 1;
      } else if (c == '&' && i + 1 < n) {
        char d = s.charAt(i + 1);
        if (isAsciiLetter(d)) {
          int k = i + 2;
          while (k < n && (isAsciiLetter(s.charAt(k)) || isAsciiDigit(s.charAt(k)))) k++;
          int len = k - (i + 2);
          if (len >= 1 && len <= 31 && k < n && s.charAt(k) == ';') end = k + 1;
        } else if (d == '#') {
          int k = i + 2;
          while (k < n && isAsciiDigit(s.charAt(k))) k++;
          int len = k - (i + 2);
          if (len >= 1 && len <= 7 && k < n && s.charAt(k) == ';') {
            end = k + 1;
          } else if (i + 2 < n && (s.charAt(i + 2) == 'x' || s.charAt(i + 2) == 'X')) {
            k = i + 3;
            while (k < n && isHexDigit(s.charAt(k))) k++;
            len = k - (i + 3);
            if (len >= 1 && len <= 6 && k < n && s.charAt(k) == ';') end = k + 1;
          }
        }
      }
      if (end >= 0) {
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i).append(' ');
        copied = end;
        i = starts.next(end);
      } else {
        i = starts.next(i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** (?m)^[|!].*$ → "". */
  static String tableLines(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    Finder marks = new Finder(s, '|', '!');
    int i = marks.next(0);
    while (i >= 0) {
      if (caretMultiline(s, i)) {
        int e = i + 1;
        while (e < n && !isLineTerminator(s.charAt(e))) e++;
        if (out == null) out = new StringBuilder(n);
        out.append(s, copied, i);
        copied = e;
        i = marks.next(e);
      } else {
        i = marks.next(i + 1);
      }
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }
}
