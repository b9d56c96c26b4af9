# One image for every shiftflow process (api, worker, migrate): the command picks the role.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/shiftflow/shiftflow/internal/version.Version=${VERSION} -X github.com/shiftflow/shiftflow/internal/version.Commit=${COMMIT}" \
    -o /out/shiftflow ./cmd/shiftflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/shiftflow /usr/local/bin/shiftflow
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/shiftflow"]
CMD ["all"]
