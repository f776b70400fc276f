# itilflow serve: the API and worker, for a Temporal cluster and PostgreSQL elsewhere.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/itilflow ./cmd/itilflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/itilflow /usr/local/bin/itilflow
COPY definitions /definitions
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/itilflow"]
CMD ["serve", "--http-addr", "0.0.0.0:8080", "--definitions", "/definitions"]
