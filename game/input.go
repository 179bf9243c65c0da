package game

import (
	"fmt"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// InputFromProto validates a wire Input and converts it. Out-of-range
// values are refused, not clamped: a client that sends them is broken or
// hostile, and silently fixing them would hide a prediction mismatch.
func InputFromProto(p *arbiterv1.Input) (Input, error) {
	switch {
	case p.GetSeq() == 0:
		return Input{}, fmt.Errorf("input seq must start at 1")
	case p.GetMoveX() < -MoveMax || p.GetMoveX() > MoveMax || p.GetMoveY() < -MoveMax || p.GetMoveY() > MoveMax:
		return Input{}, fmt.Errorf("input move (%d, %d) outside [-%d, %d]", p.GetMoveX(), p.GetMoveY(), MoveMax, MoveMax)
	case p.GetAim() >= AngleUnits:
		return Input{}, fmt.Errorf("input aim %d outside [0, %d]", p.GetAim(), AngleUnits-1)
	}
	return Input{
		Seq: p.GetSeq(), Tick: p.GetTick(), Buttons: p.GetButtons(),
		MoveX: p.GetMoveX(), MoveY: p.GetMoveY(), Aim: p.GetAim(), RenderTime: p.GetRenderTime(),
	}, nil
}

// Proto converts an Input to its wire form.
func (in Input) Proto() *arbiterv1.Input {
	return &arbiterv1.Input{
		Seq: in.Seq, Tick: in.Tick, Buttons: in.Buttons,
		MoveX: in.MoveX, MoveY: in.MoveY, Aim: in.Aim, RenderTime: in.RenderTime,
	}
}
