#!/usr/bin/env bash
# Installs a Trino server (the engine Athena's SQL dialect is built on) for the tests that run
# dbt-trino and the Iceberg/Hive tests against it: tests/python/fixtures/trino.py starts it.
#
#   scripts/trino/install.sh      (or `make trino`)
#
# What it does, once:
#   * finds a JDK >= 24 (Trino 476's classes are Java 24 bytecode): $JAVA_HOME if it
#     qualifies, else the newest under /usr/lib/jvm, /usr/java, /opt, /opt/java, /usr/local,
#     ~/.sdkman, ~/.jdks or behind the `java` on PATH. It only checks here, so a missing JDK
#     fails before a download; the fixture does the same search when it starts the server.
#   * downloads Trino 476 from Maven Central with the project's Maven (so ~/.m2/settings.xml
#     mirrors and proxies apply): the server core tarball and the iceberg and hive plugin
#     zips (194 + 346 + 258 MB). 476 is the last release published there. The full
#     trino-server tarball would also bring every other connector, none of which is loaded.
#   * unpacks them into .cache/trino/trino-server-476 (git-ignored), plugins under plugin/,
#     then deletes the downloaded archives (the unpacked tree is all that is used).
#
# Cache layout (`rm -rf .cache/trino` starts over):
#   .cache/trino/m2/                  Maven local repository used for the download (the
#                                     dependency plugin's jars; the archives are removed)
#   .cache/trino/trino-server-476/    the server: bin/ lib/ plugin/{iceberg,hive,...}
#   .cache/trino/trino-server-476/.installed   written last: the install is complete
#
# Re-running with a complete install only checks the JDK and prints the directory (< 1 s).
# The install directory is the last line on stdout; progress goes to stderr.
set -euo pipefail

TRINO_VERSION=476
MIN_JAVA=24
# Connector plugins to install beside the core's built-in ones. The iceberg catalog
# (awsdatacatalog) and the hive catalog (external tables over the landing parquet files).
PLUGINS=(iceberg hive)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${TRINO_CACHE_DIR:-$repo_root/.cache/trino}
install_dir=$cache/trino-server-$TRINO_VERSION
stamp=$install_dir/.installed
# The stamp's content: a change of plugin list reinstalls (a new version is a new directory).
expected_stamp="trino $TRINO_VERSION plugins ${PLUGINS[*]}"

log() { echo "trino install: $*" >&2; }
die() {
  echo "trino install: error: $*" >&2
  exit 1
}

# Major version of the JDK in $1, from its `release` file (no JVM start), else from
# `java -version`; empty when it is not a JDK.
java_major() {
  local home=$1 version=""
  [[ -x $home/bin/java ]] || return 0
  if [[ -f $home/release ]]; then
    version=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$home/release")
  fi
  if [[ -z $version ]]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -1)
  fi
  version=${version#1.} # 1.8.0_392 -> 8
  version=${version%%[.+_-]*}
  if [[ $version =~ ^[0-9]+$ ]]; then echo "$version"; fi
}

find_java_home() {
  local candidates=() home major best="" best_major=0
  if [[ -n ${JAVA_HOME:-} ]]; then
    major=$(java_major "$JAVA_HOME")
    if [[ -n $major ]] && ((major >= MIN_JAVA)); then
      echo "$JAVA_HOME"
      return
    fi
  fi
  shopt -s nullglob
  candidates=(/usr/lib/jvm/* /usr/java/* /opt/* /opt/java/* /usr/local/* /usr/local/java/*
    "${HOME:-}"/.sdkman/candidates/java/* "${HOME:-}"/.jdks/*)
  shopt -u nullglob
  if command -v java >/dev/null; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for home in "${candidates[@]}"; do
    [[ -d $home ]] || continue
    major=$(java_major "$home")
    if [[ -n $major ]] && ((major >= MIN_JAVA && major > best_major)); then
      best=$home
      best_major=$major
    fi
  done
  [[ -n $best ]] && echo "$best"
}

java_home=$(find_java_home) ||
  die "no JDK >= $MIN_JAVA found (JAVA_HOME=${JAVA_HOME:-unset}, searched /usr/lib/jvm, /opt, /usr/local, ~/.sdkman, PATH); Trino $TRINO_VERSION needs one, e.g. Temurin 25."

if [[ -f $stamp && $(<"$stamp") == "$expected_stamp" ]]; then
  echo "$install_dir"
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found; it downloads Trino from Maven Central (apt-get install maven)."
command -v python3 >/dev/null || die "python3 not found; it unpacks the plugin zips."

start=$SECONDS
m2=$cache/m2
mkdir -p "$cache"

# Resolves io.trino:$1:$TRINO_VERSION:$2 into the cache's Maven repository (checksums
# enforced) and prints the archive's path.
fetch() {
  local artifact=$1 packaging=$2
  local file=$m2/io/trino/$artifact/$TRINO_VERSION/$artifact-$TRINO_VERSION.$packaging
  if [[ ! -f $file ]]; then
    log "downloading io.trino:$artifact:$TRINO_VERSION:$packaging"
    local output
    # Maven logs errors on stdout, with colour codes even when quiet: shown only on failure.
    if ! output=$(mvn --batch-mode --quiet --strict-checksums -Dmaven.repo.local="$m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
      -Dartifact="io.trino:$artifact:$TRINO_VERSION:$packaging" -Dtransitive=false 2>&1); then
      echo "$output" >&2
      die "mvn could not download io.trino:$artifact:$TRINO_VERSION:$packaging"
    fi
  fi
  echo "$file"
}

# Everything is downloaded before anything is unpacked, and unpacked into a scratch
# directory renamed into place at the end: an interrupted run leaves no half install.
core=$(fetch trino-server-core tar.gz)
declare -A plugin_zip
for plugin in "${PLUGINS[@]}"; do
  plugin_zip[$plugin]=$(fetch "trino-$plugin" zip)
done

work=$cache/.partial-$TRINO_VERSION
rm -rf "$work" "$install_dir"
mkdir -p "$work"
log "unpacking into $install_dir"
tar -xzf "$core" -C "$work"
server=$work/trino-server-core-$TRINO_VERSION
for plugin in "${PLUGINS[@]}"; do
  python3 -m zipfile -e "${plugin_zip[$plugin]}" "$work"
  mv "$work/trino-$plugin-$TRINO_VERSION" "$server/plugin/$plugin"
done
echo "$expected_stamp" >"$server/.installed"
mv "$server" "$install_dir"
rm -rf "$work"
# The archives are only needed to unpack; the install is 800 MB without them, 1.6 GB with.
rm -f "$core" "${plugin_zip[@]}"

log "installed in $((SECONDS - start)) s; JDK for it: $java_home"
echo "$install_dir"
