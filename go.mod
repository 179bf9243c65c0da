module github.com/arbiter-gg/arbiter

go 1.26.8

require google.golang.org/protobuf v1.36.12

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

tool google.golang.org/protobuf/cmd/protoc-gen-go
