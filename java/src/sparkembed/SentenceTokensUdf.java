package sparkembed;

import org.apache.spark.sql.api.java.UDF1;

/** Spark UDF: text to array&lt;array&lt;string&gt;&gt; (see SentenceTokenizer). */
public final class SentenceTokensUdf implements UDF1<String, String[][]> {
  private static final long serialVersionUID = 1L;
  private final SentenceTokenizer tokenizer;

  public SentenceTokensUdf(SentenceTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  @Override
  public String[][] call(String text) {
    return tokenizer.apply(text);
  }
}
