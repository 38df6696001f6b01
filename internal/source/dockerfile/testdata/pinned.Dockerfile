ARG PLATFORM=linux/amd64
FROM --platform=linux/amd64 ubuntu:22.04 AS tools
RUN apt-get update

FROM --platform=$PLATFORM demo/legacy-billing:3.2
COPY --from=tools /usr/bin/curl /usr/bin/curl
