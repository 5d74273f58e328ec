package org.oscircular.node.cli;

import java.util.function.LongConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A byte-counting progress bar on the terminal; nothing at all when output is not a terminal. */
final class ProgressBars implements AutoCloseable, LongConsumer {
  private final ProgressBar bar;

  private ProgressBars(ProgressBar bar) {
    this.bar = bar;
  }

  static ProgressBars start(String task, long totalBytes, boolean quiet) {
    var console = System.console();
    if (quiet || console == null || !console.isTerminal()) {
      return new ProgressBars(null);
    }
    return new ProgressBars(new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(totalBytes)
        .setUnit(" MiB", 1 << 20)
        .setStyle(ProgressBarStyle.ASCII)
        .showSpeed()
        .setUpdateIntervalMillis(200)
        .build());
  }

  @Override
  public void accept(long bytes) {
    if (bar != null) {
      bar.stepBy(bytes);
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
