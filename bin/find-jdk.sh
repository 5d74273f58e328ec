# Sourced by scripts: sets JAVA_HOME to a JDK 25 or exits with a clear message.
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "25'; then
  JAVA_HOME=""
  for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25* /opt/jdk-25*; do
    if [ -x "$d/bin/java" ] && "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then JAVA_HOME="$d"; break; fi
  done
  if [ -z "$JAVA_HOME" ]; then
    echo "error: OS Circular needs a JDK 25; none found (set JAVA_HOME or install temurin-25-jdk)" >&2
    exit 1
  fi
fi
export JAVA_HOME
