package org.oscircular.node.daemon;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One JSON object per log line ({@code log.format = json}), for log shippers:
 * {@code {"ts":"…","level":"WARNING","logger":"…","thread":"…","msg":"…","error":"…"}}.
 */
public final class JsonLogFormatter extends Formatter {

  /** Makes every handler of the root logger write JSON lines. */
  public static void install() {
    Logger root = LogManager.getLogManager().getLogger("");
    for (Handler h : root.getHandlers()) {
      h.setFormatter(new JsonLogFormatter());
    }
  }

  @Override
  public String format(LogRecord r) {
    var sb = new StringBuilder(200);
    sb.append("{\"ts\":\"").append(Instant.ofEpochMilli(r.getMillis())).append('"');
    field(sb, "level", r.getLevel().getName());
    field(sb, "logger", r.getLoggerName());
    field(sb, "thread", Thread.currentThread().getName());
    field(sb, "msg", formatMessage(r));
    if (r.getThrown() != null) {
      var sw = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(sw));
      field(sb, "error", sw.toString());
    }
    return sb.append("}\n").toString();
  }

  private static void field(StringBuilder sb, String name, String value) {
    sb.append(",\"").append(name).append("\":\"");
    if (value != null) {
      escape(sb, value);
    }
    sb.append('"');
  }

  static void escape(StringBuilder sb, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
  }
}
