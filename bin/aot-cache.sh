# Sourced by bin/circular and bin/train-aot. The JVM options every circular process runs with, and the
# name of the AOT cache that belongs to one exact jar (its size and modification time in the name: a
# rebuilt jar never finds the cache of the one before).
AOT_JAVA_OPTS=(--enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
aot_cache_of() { # JAR
  local st
  st=$(stat -L -c '%s-%Y' "$1")
  echo "$(dirname "$1")/circular-$st.aot"
}
# Sets AOT_CACHE_OPTS to the options that start a JVM from JAR's AOT cache, silently (the JVM's AOT messages
# would go to stdout): none when the cache does not exist, or when OPTS (the caller's own JVM options) choose
# class-data sharing themselves (-Xshare, a shared archive, any -XX:AOT… option such as -XX:AOTMode=off).
aot_cache_opts() { # JAR [OPTS]
  local aot
  aot="$(aot_cache_of "$1")"
  AOT_CACHE_OPTS=()
  case " ${2:-} " in
    *-Xshare*|*SharedArchiveFile*|*-XX:AOT*) ;;
    *) if [ -f "$aot" ]; then AOT_CACHE_OPTS=("-XX:AOTCache=$aot" "-Xlog:aot*=off,cds*=off"); fi ;;
  esac
}
