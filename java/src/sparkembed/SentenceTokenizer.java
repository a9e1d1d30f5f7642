package sparkembed;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.util.ULocale;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A document's sentences of tokens, chunked: the same result as
 * chunk(sentence_tokens(text, cfg), max_sentence_length) in sparkembed/tokenize.py (the
 * reference, Spark SQL expressions), computed in one pass over the document.
 */
public final class SentenceTokenizer implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The default token pattern: scanned with a Character loop instead of a regex. */
  public static final String LETTERS = "\\p{L}+";

  private static final String LOCALE_SENSITIVE = "IİÌÍĨĮJ";
  private static final String LOCALE_SENSITIVE_LOWER = "iiìíĩįj";

  private final String tokenPattern;
  private final boolean lowercase;
  private final String foldFrom;
  private final String foldTo;
  private final boolean splitSentences;
  private final int minTokenLength;
  private final int maxTokenLength;
  private final Set<String> stopWords;
  private final int maxSentenceLength;

  private transient Pattern pattern;
  private transient Map<Integer, String> fold;

  /**
   * @param foldFrom, foldTo the accent-folding translation (as F.translate gets it), or ""
   *     for none
   * @param stopWords already lowercased when lowercase is on (as tokenize.py does)
   */
  public SentenceTokenizer(
      String tokenPattern,
      boolean lowercase,
      String foldFrom,
      String foldTo,
      boolean splitSentences,
      int minTokenLength,
      int maxTokenLength,
      String[] stopWords,
      int maxSentenceLength) {
    if (maxSentenceLength < 1) throw new IllegalArgumentException("maxSentenceLength < 1");
    this.tokenPattern = tokenPattern;
    this.lowercase = lowercase;
    this.foldFrom = foldFrom;
    this.foldTo = foldTo;
    this.splitSentences = splitSentences;
    this.minTokenLength = minTokenLength;
    this.maxTokenLength = maxTokenLength;
    this.stopWords = new HashSet<>(List.of(stopWords));
    this.maxSentenceLength = maxSentenceLength;
  }

  // For TokenBatches' ASCII scanner, which has this class's semantics on ASCII texts.
  boolean lettersPattern() {
    return LETTERS.equals(tokenPattern);
  }

  boolean lowercases() {
    return lowercase;
  }

  boolean splitsSentences() {
    return splitSentences;
  }

  int minTokenLength() {
    return minTokenLength;
  }

  int maxTokenLength() {
    return maxTokenLength;
  }

  int maxSentenceLength() {
    return maxSentenceLength;
  }

  boolean isStopWord(String token) {
    return !stopWords.isEmpty() && stopWords.contains(token);
  }

  boolean hasStopWords() {
    return !stopWords.isEmpty();
  }

  /** F.translate's dictionary: code point to replacement ("" deletes); first entry wins. */
  private static Map<Integer, String> translation(String from, String to) {
    Map<Integer, String> dict = new HashMap<>();
    int i = 0;
    int j = 0;
    while (i < from.length()) {
      String rep = "";
      if (j < to.length()) {
        int r = to.codePointAt(j);
        j += Character.charCount(r);
        rep = new String(Character.toChars(r));
      }
      int m = from.codePointAt(i);
      dict.putIfAbsent(m, rep);
      i += Character.charCount(m);
    }
    return dict;
  }

  private static String translate(String s, Map<Integer, String> dict) {
    StringBuilder out = null;
    int n = s.length();
    int i = 0;
    while (i < n) {
      int cp = s.codePointAt(i);
      int w = Character.charCount(cp);
      String rep = dict.get(cp);
      if (rep != null) {
        if (out == null) out = new StringBuilder(n).append(s, 0, i);
        out.append(rep);
      } else if (out != null) {
        out.append(s, i, i + w);
      }
      i += w;
    }
    return out == null ? s : out.toString();
  }

  /**
   * tokenize.lowercase: the locale-sensitive capitals mapped first, then what Spark's lower
   * does (ASCII: ASCII lowercase; else ICU's full case mapping in the default locale, here
   * the root locale). In the root locale ICU's full mapping differs from its per-character
   * (simple) mapping only for U+0130 (mapped first) and the final-sigma rule for U+03A3: a
   * text without U+03A3 is lowercased character by character, which is much cheaper.
   */
  static String lowercase(String s) {
    int n = s.length();
    int i = 0;
    while (i < n && s.charAt(i) < 0x80) i++;
    if (i == n) return s.toLowerCase(Locale.ROOT);
    if (s.indexOf('\u03A3') >= 0) {
      StringBuilder b = new StringBuilder(s);
      for (int k = 0; k < n; k++) {
        int j = LOCALE_SENSITIVE.indexOf(b.charAt(k));
        if (j >= 0) b.setCharAt(k, LOCALE_SENSITIVE_LOWER.charAt(j));
      }
      return UCharacter.toLowerCase(ULocale.ROOT, b.toString());
    }
    StringBuilder out = new StringBuilder(n);
    i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c < 0x80) {
        out.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        i++;
        continue;
      }
      int j = LOCALE_SENSITIVE.indexOf(c);
      if (j >= 0) {
        out.append(LOCALE_SENSITIVE_LOWER.charAt(j));
        i++;
        continue;
      }
      int cp = s.codePointAt(i);
      out.appendCodePoint(UCharacter.toLowerCase(cp));
      i += Character.charCount(cp);
    }
    return out.toString();
  }

  /** Sentences (as token lists, chunked) of one document; null for null. */
  public String[][] apply(String text) {
    if (text == null) return null;
    if (lowercase) text = lowercase(text);
    if (!foldFrom.isEmpty()) {
      if (fold == null) fold = translation(foldFrom, foldTo);
      text = translate(text, fold);
    }
    boolean letters = LETTERS.equals(tokenPattern);
    if (!letters && pattern == null) pattern = Pattern.compile(tokenPattern);
    List<String[]> out = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    int n = text.length();
    int start = 0;
    if (splitSentences) {
      int i = 0;
      while (i < n) {
        if (!Wikitext.isSpace(text.charAt(i))) {
          i++;
          continue;
        }
        // A maximal white-space run: a break when it follows . ! ? or holds a newline.
        int e = i;
        boolean newline = false;
        while (e < n && Wikitext.isSpace(text.charAt(e))) {
          if (text.charAt(e) == '\n') newline = true;
          e++;
        }
        char before = i > 0 ? text.charAt(i - 1) : 0;
        if (newline || (i > 0 && (before == '.' || before == '!' || before == '?'))) {
          sentence(text, start, i, letters, tokens, out);
          start = e;
        }
        i = e;
      }
    }
    sentence(text, start, n, letters, tokens, out);
    return out.toArray(new String[0][]);
  }

  private void sentence(
      String text, int from, int to, boolean letters, List<String> tokens, List<String[]> out) {
    tokens.clear();
    if (letters) {
      int i = from;
      while (i < to) {
        int cp = text.codePointAt(i);
        if (!Character.isLetter(cp)) {
          i += Character.charCount(cp);
          continue;
        }
        int s = i;
        int chars = 0;
        while (i < to) {
          cp = text.codePointAt(i);
          if (!Character.isLetter(cp)) break;
          i += Character.charCount(cp);
          chars++;
        }
        keep(text.substring(s, i), chars, tokens);
      }
    } else {
      Matcher m = pattern.matcher(text.substring(from, to));
      while (m.find()) {
        String t = m.group();
        keep(t, t.codePointCount(0, t.length()), tokens);
      }
    }
    int size = tokens.size();
    for (int c = 0; c < size; c += maxSentenceLength) {
      out.add(tokens.subList(c, Math.min(size, c + maxSentenceLength)).toArray(new String[0]));
    }
  }

  private void keep(String token, int chars, List<String> tokens) {
    if (chars < minTokenLength || chars > maxTokenLength) return;
    if (!stopWords.isEmpty() && stopWords.contains(token)) return;
    tokens.add(token);
  }
}
