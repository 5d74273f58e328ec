# Sourced by bin/circular and bin/train-aot. The JVM options every circular process runs with, and the
# name of the AOT cache that belongs to one exact jar (its size and modification time in the name: a
# rebuilt jar never finds the cache of the one before).
AOT_JAVA_OPTS=(--enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
aot_cache_of() { # JAR
  local st
  st=$(stat -L -c '%s-%Y' "$1")
  echo "$(dirname "$1")/circular-$st.aot"
}
