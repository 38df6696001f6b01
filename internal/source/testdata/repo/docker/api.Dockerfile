FROM golang:1.23 AS build
RUN go build -o /api .
FROM gcr.io/distroless/static:nonroot
COPY --from=build /api /api
