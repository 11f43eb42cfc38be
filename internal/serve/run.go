package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Run serves REST on httpLn and gRPC on grpcLn (either may be nil) until
// ctx is cancelled. Each value received on reload reloads every model
// (Reload; requests in flight finish on the version they started with).
// On cancellation the listeners close, the requests in flight finish
// (up to grace), and Run returns. Events are logged to log.
func (s *Server) Run(ctx context.Context, httpLn, grpcLn net.Listener, reload <-chan struct{}, grace time.Duration, log io.Writer) error {
	errc := make(chan error, 2)
	var hs *http.Server
	if httpLn != nil {
		hs = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := hs.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve: REST: %w", err)
			}
		}()
		fmt.Fprintf(log, "REST (Open Inference Protocol) on http://%s/v2, metrics on /metrics\n", httpLn.Addr())
	}
	g := s.GRPC()
	if grpcLn != nil {
		go func() {
			if err := g.Serve(grpcLn); err != nil {
				errc <- fmt.Errorf("serve: gRPC: %w", err)
			}
		}()
		fmt.Fprintf(log, "gRPC (inference.GRPCInferenceService) on %s\n", grpcLn.Addr())
	}
	for {
		select {
		case <-reload:
			if err := s.Reload(); err != nil {
				fmt.Fprintf(log, "reload: %v\n", err)
			} else {
				fmt.Fprintf(log, "reloaded %d models\n", len(s.order))
			}
			continue
		case err := <-errc:
			g.Stop()
			if hs != nil {
				hs.Close()
			}
			return err
		case <-ctx.Done():
		}
		break
	}
	fmt.Fprintln(log, "shutting down: finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	var err error
	if hs != nil {
		err = hs.Shutdown(sctx)
	}
	select {
	case <-done:
	case <-sctx.Done():
		g.Stop()
		err = errors.Join(err, fmt.Errorf("serve: requests still in flight after %s were cut", grace))
	}
	return err
}
