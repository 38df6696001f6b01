FROM debian:12 AS base
RUN <<EOT
  set -e
  echo "FROM fake:1.0 is not an instruction here"
EOT
FROM base AS final
