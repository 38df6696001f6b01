FROM alpine:3.20
RUN true
FROM alpine:3.20 base
