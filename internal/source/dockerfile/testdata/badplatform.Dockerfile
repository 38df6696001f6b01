FROM alpine:3.20
FROM --platform=linux/sparc9 alpine:3.20
