FROM --platform=${BUILDPLATFORM} golang:1.23-alpine AS build
RUN CGO_ENABLED=0 go build -o /app .

FROM scratch
COPY --from=build /app /app
ENTRYPOINT ["/app"]
