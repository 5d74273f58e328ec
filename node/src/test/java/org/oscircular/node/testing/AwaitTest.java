package org.oscircular.node.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class AwaitTest {

  @Test
  void returnsTheFirstValueThatSatisfiesTheCondition() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    int seen = Await.atMost(Duration.ofSeconds(5)).every(Duration.ofMillis(1))
        .until("the counter to reach 3", calls::incrementAndGet, n -> n >= 3);
    assertThat(seen).isEqualTo(3);
    assertThat(calls).hasValue(3);
  }

  @Test
  void aTimeoutNamesWhatWasAwaitedAndTheLastValueObserved() {
    AtomicInteger calls = new AtomicInteger();
    long start = System.nanoTime();
    assertThatThrownBy(() -> Await.atMost(Duration.ofMillis(200)).every(Duration.ofMillis(20))
        .until("the counter to go negative", calls::incrementAndGet, n -> n < 0))
        .isInstanceOf(AssertionError.class)
        .hasMessage("timed out after 200 ms waiting for the counter to go negative; last observed: " + calls.get());
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
    assertThat(calls.get()).as("observed more than once").isGreaterThan(1);
  }

  @Test
  void aConditionThatNeverHoldsTimesOutNamingIt() {
    assertThatThrownBy(() -> Await.atMost(Duration.ofSeconds(1)).until("the door to open", () -> false))
        .isInstanceOf(AssertionError.class)
        .hasMessage("timed out after 1 s waiting for the door to open");
  }

  @Test
  void anExceptionFromTheProbeStopsTheWaitAtOnce() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> Await.atMost(Duration.ofSeconds(5)).until("a process to answer", () -> {
      throw new IOException("the process exited");
    })).isInstanceOf(IOException.class).hasMessage("the process exited");
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(4).toNanos());
  }
}
