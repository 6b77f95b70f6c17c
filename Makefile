# Developer shortcuts. The test command of record is the README's `go test -timeout 30m ./...`.
.PHONY: test bench fuzz lint image

test:
	go test -timeout 30m ./...

# Load harness: throughput and latency of verify against a bare net/http
# handler measured in the same run. Flags through BENCHFLAGS, e.g.
# make bench BENCHFLAGS='-server-cpus 0 -load-cpus 1 -keys1m=false'
bench:
	go run ./bench $(BENCHFLAGS)

fuzz:
	go test -run '^$$' -fuzz FuzzParseDuration -fuzztime 30s .
	go test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./internal/token
	go test -run '^$$' -fuzz FuzzDecode -fuzztime 30s ./internal/api
	go test -run '^$$' -fuzz FuzzParseLeakReports -fuzztime 30s ./internal/api
	go test -run '^$$' -fuzz FuzzPostBody -fuzztime 30s ./internal/verify
	go test -run '^$$' -fuzz FuzzFilter -fuzztime 30s ./internal/scim
	go test -run '^$$' -fuzz FuzzPatchPath -fuzztime 30s ./internal/scim
	go test -run '^$$' -fuzz FuzzSafeNext -fuzztime 30s ./internal/console

lint:
	gofmt -l .
	go vet ./...
	staticcheck ./...

# The container image (Dockerfile); buildah works as well as docker.
image:
	docker build --build-arg BUILD_TIME=$$(date -u +%FT%TZ) -t latchkey .
