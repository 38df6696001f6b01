FROM alpine:3.20
FORM alpine:3.19
