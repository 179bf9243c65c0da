package arena

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/arbiter-gg/arbiter/game"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const goldenPath = "testdata/movement_golden.json"

// goldenCase is one movement scenario: a start body on the default map and
// a sequence of stick inputs.
type goldenCase struct {
	name   string
	start  Body
	inputs [][2]int32
}

// repeat appends n copies of (mx, my).
func repeat(in [][2]int32, n int, mx, my int32) [][2]int32 {
	for range n {
		in = append(in, [2]int32{mx, my})
	}
	return in
}

// goldenCases are the scenarios replayed at every tick rate.
func goldenCases() []goldenCase {
	var cs []goldenCase
	add := func(name string, x, y int32, in [][2]int32) {
		cs = append(cs, goldenCase{name, Body{X: U(x), Y: U(y)}, in})
	}

	var in [][2]int32
	in = repeat(in, 60, 127, 0)
	in = repeat(in, 40, 0, 0)
	in = repeat(in, 60, -127, 0)
	in = repeat(in, 20, 0, 0)
	add("straight", 300, 380, in)

	in = nil
	in = repeat(in, 80, 127, 127)
	in = repeat(in, 30, 90, -60)
	in = repeat(in, 30, -127, 127)
	in = repeat(in, 30, 100, 100)
	in = repeat(in, 30, -127, -27)
	in = repeat(in, 20, 0, 0)
	add("diagonal", 100, 100, in)

	in = nil
	for range 4 {
		in = repeat(in, 10, 127, 0)
		in = repeat(in, 10, 0, 0)
		in = repeat(in, 5, 0, 127)
		in = repeat(in, 5, 0, 0)
	}
	in = repeat(in, 15, -127, 0)
	in = repeat(in, 15, -40, 0)
	in = repeat(in, 10, 127, 0)
	in = repeat(in, 10, 0, 0)
	add("stop", 1000, 380, in)

	in = nil
	in = repeat(in, 60, -127, 0)
	in = repeat(in, 10, 127, 0)
	in = repeat(in, 30, -127, 0)
	in = repeat(in, 40, 0, -127)
	add("into_wall", 700, 200, in)

	in = nil
	in = repeat(in, 100, -127, 127)
	in = repeat(in, 60, 90, 127)
	in = repeat(in, 20, 0, 0)
	add("along_wall", 614, 150, in)

	in = nil
	rng := splitmix(2024)
	var cur [2]int32
	for range 300 {
		switch rng.intn(5) {
		case 0, 1:
			cur = [2]int32{rng.stick(), rng.stick()}
		case 2:
			cur = [2]int32{int32(rng.intn(3)-1) * 127, int32(rng.intn(3)-1) * 127}
		case 3:
			cur = [2]int32{}
		}
		in = append(in, cur)
	}
	add("random", 800, 300, in)
	return cs
}

// renderGolden computes the golden vectors and encodes them as JSON, one
// step per line.
func renderGolden(t testing.TB) []byte {
	m := DefaultMap()
	var b bytes.Buffer
	b.WriteString("{\n")
	b.WriteString(`  "description": "Movement golden vectors written by go test ./game/arena -run TestMovementGolden -update. For each tick rate and case: start from body [x, y, vx, vy], then for each step apply Move with stick [moveX, moveY] against walls; each step is [moveX, moveY, x, y, vx, vy] with the body after the step. Units: 1/8 world unit, per tick for velocities. Walls are [minX, minY, maxX, maxY].",` + "\n")
	fmt.Fprintf(&b, "  \"scale\": %d,\n  \"moveMax\": %d,\n  \"map\": %q,\n  \"walls\": [\n", Scale, game.MoveMax, m.Name)
	for i, w := range m.Walls {
		fmt.Fprintf(&b, "    [%d, %d, %d, %d]%s\n", w.MinX, w.MinY, w.MaxX, w.MaxY, comma(i, len(m.Walls)))
	}
	b.WriteString("  ],\n  \"tickRates\": [\n")
	rates := []int{30, 60}
	cases := goldenCases()
	for ri, rate := range rates {
		p := NewMoveParams(rate)
		fmt.Fprintf(&b, "    {\n      \"tickRate\": %d,\n", rate)
		fmt.Fprintf(&b, "      \"params\": {\"maxSpeed\": %d, \"accel\": %d, \"friction\": %d, \"halfSize\": %d},\n",
			p.MaxSpeed, p.Accel, p.Friction, p.HalfSize)
		b.WriteString("      \"cases\": [\n")
		for ci, c := range cases {
			body := c.start
			fmt.Fprintf(&b, "        {\n          \"name\": %q,\n          \"start\": [%d, %d, %d, %d],\n          \"steps\": [\n",
				c.name, body.X, body.Y, body.VX, body.VY)
			for si, mv := range c.inputs {
				body = Move(body, game.Input{MoveX: mv[0], MoveY: mv[1]}, p, m.Walls)
				for _, w := range m.Walls {
					if Overlaps(body.X, body.Y, p.HalfSize, w) {
						t.Fatalf("%s at %d: step %d ends inside wall %+v", c.name, rate, si, w)
					}
				}
				fmt.Fprintf(&b, "            [%d, %d, %d, %d, %d, %d]%s\n",
					mv[0], mv[1], body.X, body.Y, body.VX, body.VY, comma(si, len(c.inputs)))
			}
			fmt.Fprintf(&b, "          ]\n        }%s\n", comma(ci, len(cases)))
		}
		fmt.Fprintf(&b, "      ]\n    }%s\n", comma(ri, len(rates)))
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

func comma(i, n int) string {
	if i < n-1 {
		return ","
	}
	return ""
}

// TestMovementGolden keeps testdata/movement_golden.json, which the
// TypeScript client replays, equal to what Move computes. Run with -update
// after changing the movement rules.
func TestMovementGolden(t *testing.T) {
	got := renderGolden(t)
	if !json.Valid(got) {
		t.Fatal("golden output is not valid JSON")
	}
	if len(got) > 1<<20 {
		t.Fatalf("golden file is %d bytes, over 1 MB", len(got))
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (generate it with go test ./game/arena -run TestMovementGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the movement rules; review the change and run go test ./game/arena -run TestMovementGolden -update", goldenPath)
	}
}

// TestGoldenCasesExercise checks the golden cases do what their names say.
func TestGoldenCasesExercise(t *testing.T) {
	m := DefaultMap()
	p := NewMoveParams(30)
	for _, c := range goldenCases() {
		if n := len(c.inputs); n < 100 || n > 300 {
			t.Errorf("%s: %d steps", c.name, n)
		}
		for _, w := range m.Walls {
			if Overlaps(c.start.X, c.start.Y, p.HalfSize, w) {
				t.Errorf("%s starts inside %+v", c.name, w)
			}
		}
		blocked := 0
		b := c.start
		for _, mv := range c.inputs {
			next := Move(b, game.Input{MoveX: mv[0], MoveY: mv[1]}, p, m.Walls)
			free := Move(b, game.Input{MoveX: mv[0], MoveY: mv[1]}, p, nil)
			if next != free {
				blocked++
			}
			b = next
		}
		wantBlocked := c.name == "into_wall" || c.name == "along_wall"
		if wantBlocked != (blocked > 0) {
			t.Errorf("%s: blocked by walls in %d steps", c.name, blocked)
		}
	}
}
