package org.oscircular.simulator;

/** A scenario file that cannot be used; the message says which setting and what to change. */
final class ScenarioException extends RuntimeException {
    ScenarioException(String message) {
        super(message);
    }
}
