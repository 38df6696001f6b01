ARG BASE
FROM $BASE AS base
FROM demo/app:${TARGETARCH}-1.0
COPY --from=base /etc/os-release /etc/os-release
