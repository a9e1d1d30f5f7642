package sparkembed;

import org.apache.spark.sql.api.java.UDF1;

/** Spark UDF: unescaped wikitext to plain text, as clean_wikitext in wikitext.py. */
public final class CleanWikitextUdf implements UDF1<String, String> {
  private static final long serialVersionUID = 1L;

  @Override
  public String call(String wikitext) {
    return wikitext == null ? null : Wikitext.clean(wikitext);
  }
}
