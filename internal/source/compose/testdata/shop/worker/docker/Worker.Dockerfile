ARG BASE_TAG=0.1
FROM demo/worker:${BASE_TAG} AS release
FROM release AS debug
RUN apt-get install -y gdb
