#!/usr/bin/env bash
# Offline machines cannot pull images. This builds, from binaries already on this machine, the base images
# the compose file and Dockerfile name: node:20-bookworm-slim (this machine's Node + npm),
# prom/prometheus:v2.42.0 (Debian's prometheus package), redis:7.0-bookworm (Debian's redis-server) and
# prom/alertmanager:v0.25.0 (Debian's prometheus-alertmanager).
# Skips an image that already exists.
# Usage: DOCKER_HOST=unix:///path/docker.sock scripts/docker-local-images.sh
set -euo pipefail

copy_with_libs() { # copy_with_libs ROOTFS FILE... : the files and every shared library they load
  local root=$1; shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"; cp -L "$f" "$root$f"
    ldd "$f" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do
      mkdir -p "$root$(dirname "$lib")"; cp -Ln "$lib" "$root$lib"
    done
  done
}

base_files() { # users, temp dir, CA certificates, a shell and env: what RUN and npm need
  local root=$1
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/bin" "$root/usr/bin"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
  copy_with_libs "$root" /bin/dash /usr/bin/env
  ln -sf dash "$root/bin/sh"
  mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
}

exists() { docker image inspect "$1" >/dev/null 2>&1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! exists node:20-bookworm-slim; then
  root=$work/node; mkdir -p "$root"
  base_files "$root"
  copy_with_libs "$root" "$(readlink -f "$(command -v node)")"
  mv "$root$(readlink -f "$(command -v node)")" "$root/node.tmp"; mkdir -p "$root/usr/local/bin"; mv "$root/node.tmp" "$root/usr/local/bin/node"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$root/usr/local/lib/node_modules"; cp -r "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_VERSION=20' --change 'CMD ["node"]' - node:20-bookworm-slim >/dev/null
  echo "built node:20-bookworm-slim from $(node --version)"
fi

if ! exists prom/prometheus:v2.42.0; then
  root=$work/prom; mkdir -p "$root"
  base_files "$root"
  copy_with_libs "$root" /usr/bin/prometheus /usr/bin/promtool
  mkdir -p "$root/bin" "$root/etc/prometheus" "$root/prometheus"
  mv "$root/usr/bin/prometheus" "$root/usr/bin/promtool" "$root/bin/"
  # Debian's build serves its web pages' assets from /usr/share/prometheus/web (links into /usr/share/javascript);
  # the console library goes where upstream's image keeps it (the compose file points there).
  mkdir -p "$root/usr/share/prometheus"
  cp -rL /usr/share/prometheus/web "$root/usr/share/prometheus/"
  if [ -f /usr/share/doc/prometheus/examples/console_libraries/prom.lib ]; then
    cp -r /usr/share/doc/prometheus/examples/console_libraries "$root/usr/share/prometheus/console_libraries"
  fi
  chown 65534:65534 "$root/prometheus"
  tar -C "$root" -c . | docker import \
    --change 'ENTRYPOINT ["/bin/prometheus"]' \
    --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' \
    --change 'USER nobody' --change 'EXPOSE 9090' --change 'WORKDIR /prometheus' - prom/prometheus:v2.42.0 >/dev/null
  echo "built prom/prometheus:v2.42.0 from $(prometheus --version 2>&1 | head -1)"
fi

if ! exists redis:7.0-bookworm && command -v redis-server >/dev/null; then
  root=$work/redis; mkdir -p "$root"
  base_files "$root"
  copy_with_libs "$root" "$(readlink -f "$(command -v redis-server)")" "$(readlink -f "$(command -v redis-cli)")"
  mkdir -p "$root/usr/local/bin" "$root/data"
  mv "$root$(readlink -f "$(command -v redis-server)")" "$root/usr/local/bin/redis-server"
  mv "$root$(readlink -f "$(command -v redis-cli)")" "$root/usr/local/bin/redis-cli"
  chown 65534:65534 "$root/data"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["redis-server"]' \
    --change 'USER nobody' --change 'EXPOSE 6379' --change 'WORKDIR /data' - redis:7.0-bookworm >/dev/null
  echo "built redis:7.0-bookworm from $(redis-server --version | cut -d' ' -f3)"
fi

if ! exists prom/alertmanager:v0.25.0 && command -v prometheus-alertmanager >/dev/null; then
  root=$work/alertmanager; mkdir -p "$root"
  base_files "$root"
  copy_with_libs "$root" /usr/bin/prometheus-alertmanager /usr/bin/amtool
  # Debian's build reads its notification templates (and its UI page) from here.
  mkdir -p "$root/usr/share/prometheus" && cp -r /usr/share/prometheus/alertmanager "$root/usr/share/prometheus/"
  mkdir -p "$root/bin" "$root/etc/alertmanager" "$root/alertmanager"
  mv "$root/usr/bin/prometheus-alertmanager" "$root/bin/alertmanager"; mv "$root/usr/bin/amtool" "$root/bin/"
  chown 65534:65534 "$root/alertmanager"
  tar -C "$root" -c . | docker import \
    --change 'ENTRYPOINT ["/bin/alertmanager"]' \
    --change 'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]' \
    --change 'USER nobody' --change 'EXPOSE 9093' --change 'WORKDIR /alertmanager' - prom/alertmanager:v0.25.0 >/dev/null
  echo "built prom/alertmanager:v0.25.0 from $(prometheus-alertmanager --version 2>&1 | head -1)"
fi
