package client

import (
	"errors"
	"fmt"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// ErrClosed is wrapped by the error of every call that could not complete
// because the connection has ended. The same error also wraps the reason the
// connection ended, so websocket.CloseStatus(err) gives the close status the
// server sent, if any.
var ErrClosed = errors.New("client: connection closed")

// ServerError is an Error message from the server, returned by the call it
// answered (Dial, WaitMatch, JoinRoom, PartyJoin, ...).
type ServerError struct {
	Code    arbiterv1.ErrorCode
	Message string
}

func newServerError(m *arbiterv1.Error) *ServerError {
	return &ServerError{Code: m.GetCode(), Message: m.GetMessage()}
}

// Error implements error.
func (e *ServerError) Error() string {
	return fmt.Sprintf("client: server error %s: %s", e.Code, e.Message)
}

// MatchError reports that a matchmaking ticket ended without a match
// (MatchStatus CANCELLED, TIMED_OUT or FAILED).
type MatchError struct {
	Status *arbiterv1.MatchStatus
}

// Error implements error.
func (e *MatchError) Error() string {
	if r := e.Status.GetReason(); r != "" {
		return fmt.Sprintf("client: matchmaking ended: %s: %s", e.Status.GetState(), r)
	}
	return fmt.Sprintf("client: matchmaking ended: %s", e.Status.GetState())
}
