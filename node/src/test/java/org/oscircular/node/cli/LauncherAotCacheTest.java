package org.oscircular.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/circular and its JDK AOT cache: used when it belongs to the jar, and never a word on stdout or
 * stderr when it is missing, damaged or of another build. Runs the real launcher scripts, copied into a
 * scratch tree whose node/target/circular.jar is a one-class program that prints its arguments.
 */
@Timeout(120)
final class LauncherAotCacheTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @TempDir Path root;
  private Path jar;

  @BeforeEach
  void copyLauncherAndBuildJar() throws IOException {
    Path bin = Files.createDirectories(root.resolve("bin"));
    for (String script : List.of("circular", "find-jdk.sh", "aot-cache.sh")) {
      Files.copy(REPO.resolve("bin").resolve(script), bin.resolve(script));
    }
    bin.resolve("circular").toFile().setExecutable(true);
    jar = Files.createDirectories(root.resolve("node/target")).resolve("circular.jar");
    buildEchoJar(jar);
  }

  @Test
  void runsWithoutACacheAndPrintsOnlyTheCommandsOutput() throws Exception {
    Run run = launch(Map.of(), "cache", "stats");

    assertThat(run.exit()).isZero();
    assertThat(run.out()).isEqualTo("echo: cache stats\n");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void startsFromTheCacheTrainedForThisJar() throws Exception {
    Path cache = train();

    Run run = launch(Map.of("CIRCULAR_JAVA_OPTS", "-Xlog:aot"), "x");

    assertThat(cache.getFileName().toString()).matches("circular-\\d+-\\d+\\.aot");
    assertThat(run.out()).contains("Using AOT-linked classes: true").endsWith("echo: x\n");
  }

  @Test
  void staysSilentWhenTheCacheIsDamaged() throws Exception {
    Path cache = train();
    Files.write(cache, new byte[4096]);

    Run run = launch(Map.of(), "cache", "stats");

    assertThat(run.out()).isEqualTo("echo: cache stats\n");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void ignoresTheCacheOfAnEarlierBuildOfTheJar() throws Exception {
    Path cache = train();
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
    Path renamed = Files.move(cache, cache.resolveSibling(aotCacheName()));  // the new jar's name, old content

    Run run = launch(Map.of(), "y");

    assertThat(renamed).exists();
    assertThat(run.out()).isEqualTo("echo: y\n");
    assertThat(run.err()).isEmpty();
  }

  /** Writes the AOT cache for the jar as bin/train-aot does (same JVM options), with a trivial workload. */
  private Path train() throws Exception {
    Path cache = jar.resolveSibling(aotCacheName());
    List<String> cmd = new ArrayList<>(List.of("bash", "-c",
        ". bin/aot-cache.sh && exec \"$JAVA\" \"${AOT_JAVA_OPTS[@]}\" -XX:AOTCacheOutput=\"$0\" -jar \"$1\" train",
        cache.toString(), jar.toString()));
    Run run = exec(cmd, Map.of("JAVA", javaBin()));
    assertThat(run.exit()).as("training: %s %s", run.out(), run.err()).isZero();
    assertThat(cache).isNotEmptyFile();
    return cache;
  }

  private String aotCacheName() throws Exception {
    Run run = exec(List.of("bash", "-c", ". bin/aot-cache.sh && aot_cache_of \"$0\"", jar.toString()), Map.of());
    return Path.of(run.out().strip()).getFileName().toString();
  }

  private Run launch(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(root.resolve("bin/circular").toString()));
    cmd.addAll(List.of(args));
    return exec(cmd, env);
  }

  private Run exec(List<String> cmd, Map<String, String> env) throws Exception {
    Path out = Files.createTempFile(root, "out", ".txt");
    Path err = Files.createTempFile(root, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(Duration.ofSeconds(60).toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(cmd + " did not finish within 60 s");
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private void buildEchoJar(Path target) throws IOException {
    Path src = Files.createDirectories(root.resolve("src")).resolve("Echo.java");
    Files.writeString(src, """
        public class Echo {
          public static void main(String[] args) {
            System.out.println("echo: " + String.join(" ", args));
          }
        }
        """);
    Path classes = Files.createDirectories(root.resolve("classes"));
    int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.toString());
    assertThat(rc).as("javac of the echo program").isZero();
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Echo");
    try (OutputStream file = Files.newOutputStream(target); JarOutputStream out = new JarOutputStream(file, manifest)) {
      out.putNextEntry(new JarEntry("Echo.class"));
      out.write(Files.readAllBytes(classes.resolve("Echo.class")));
      out.closeEntry();
    }
  }

  private record Run(int exit, String out, String err) {}
}
