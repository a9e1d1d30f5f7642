package sparkembed;

import org.apache.spark.sql.api.java.UDF1;

/** Spark UDF: a dump's escaped &lt;text&gt; to plain text, clean_wikitext(unescape_xml(body)). */
public final class CleanPageUdf implements UDF1<String, String> {
  private static final long serialVersionUID = 1L;

  @Override
  public String call(String body) {
    return body == null ? null : Wikitext.cleanPage(body);
  }
}
