package game

import (
	"errors"
	"math"
	"testing"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func TestQuantizeClampsAndRejects(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := QuantizePosition(bad); !errors.Is(err, ErrNotFinite) {
			t.Errorf("position %v: %v", bad, err)
		}
		if _, err := QuantizeAngle(bad); !errors.Is(err, ErrNotFinite) {
			t.Errorf("angle %v: %v", bad, err)
		}
		if _, err := QuantizeMove(bad); !errors.Is(err, ErrNotFinite) {
			t.Errorf("move %v: %v", bad, err)
		}
	}
	pos := []struct {
		in   float64
		want int32
	}{{0, 0}, {1, 8}, {-2.5, -20}, {0.0624, 0}, {0.0626, 1}, {1e12, MaxCoord}, {-1e12, -MaxCoord}}
	for _, c := range pos {
		if got, err := QuantizePosition(c.in); err != nil || got != c.want {
			t.Errorf("QuantizePosition(%v) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	ang := []struct {
		in   float64
		want uint32
	}{{0, 0}, {math.Pi / 2, 16384}, {math.Pi, 32768}, {-math.Pi / 2, 49152}, {2 * math.Pi, 0}, {5 * math.Pi, 32768}, {-1e-9, 0}}
	for _, c := range ang {
		if got, err := QuantizeAngle(c.in); err != nil || got != c.want {
			t.Errorf("QuantizeAngle(%v) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	mv := []struct {
		in   float64
		want int32
	}{{0, 0}, {1, 127}, {-1, -127}, {0.5, 64}, {7, 127}, {-1e300, -127}}
	for _, c := range mv {
		if got, err := QuantizeMove(c.in); err != nil || got != c.want {
			t.Errorf("QuantizeMove(%v) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestInputFromProtoRefusesOutOfRange(t *testing.T) {
	ok := &arbiterv1.Input{Seq: 1, MoveX: -127, MoveY: 127, Aim: 65535}
	if in, err := InputFromProto(ok); err != nil || in.MoveX != -127 || in.Aim != 65535 {
		t.Fatalf("%+v %v", in, err)
	}
	for _, bad := range []*arbiterv1.Input{
		{Seq: 0},
		{Seq: 1, MoveX: 128},
		{Seq: 1, MoveY: -128},
		{Seq: 1, Aim: 65536},
	} {
		if _, err := InputFromProto(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
