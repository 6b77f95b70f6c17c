# latchkey: a static binary in an otherwise empty image, running as a non-root user.
#
#   docker build -t latchkey .            (or: buildah build -t latchkey .)
#   docker run -p 8080:8080 -v latchkey-data:/var/lib/latchkey latchkey
#
# The image has no shell: every command is the binary itself, e.g.
#   docker run --rm -v latchkey-data:/var/lib/latchkey latchkey backup --out /var/lib/latchkey/backup.db
# See docs/install.md.

FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# BUILD_TIME is shown by `latchkey version`; the commit comes from the
# source tree when .git is in the build context (-buildvcs=auto).
ARG BUILD_TIME=""
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=auto go build -trimpath \
      -ldflags "-s -w -X main.buildTime=${BUILD_TIME}" \
      -o /out/latchkey ./cmd/latchkey \
 && mkdir -p /out/data

# The image is the binary, CA certificates (SMTP over TLS, webhooks) and an
# empty data directory owned by the non-root user: no shell, no package
# manager, no libc (CGO_ENABLED=0: the SQLite driver is pure Go).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/latchkey /usr/local/bin/latchkey
COPY --from=build --chown=65532:65532 /out/data /var/lib/latchkey
USER 65532:65532
ENV LATCHKEY_DATA_DIR=/var/lib/latchkey \
    LATCHKEY_ADDR=0.0.0.0:8080
VOLUME ["/var/lib/latchkey"]
EXPOSE 8080
# Orchestrators probe GET /healthz (liveness) and GET /readyz (readiness);
# the image has no curl for a HEALTHCHECK, on purpose.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
