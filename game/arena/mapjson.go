package arena

import "encoding/json"

// MarshalJSON writes a map for clients (served at /v1/maps/{name}), in
// fixed-point units: walls as [minX, minY, maxX, maxY], spawns as [x, y],
// with the scale and the movement constants for common tick rates so a
// client can render and predict without copies of these numbers.
func (m *Map) MarshalJSON() ([]byte, error) {
	type out struct {
		Name     string             `json:"name"`
		Scale    int                `json:"scale"`
		Width    int32              `json:"width"`
		Height   int32              `json:"height"`
		Walls    [][4]int32         `json:"walls"`
		Spawns   [][2]int32         `json:"spawns"`
		HalfSize int32              `json:"halfSize"`
		Move     map[int]MoveParams `json:"move"`
		Weapon   map[string]int32   `json:"weapon"`
	}
	o := out{Name: m.Name, Scale: Scale, Width: m.Width, Height: m.Height, HalfSize: U(HalfSizeUnits),
		Move:   map[int]MoveParams{},
		Weapon: map[string]int32{"range": U(RangeUnits), "damage": Damage, "maxHealth": MaxHealth, "fireRate": FireRate},
	}
	for _, tr := range []int{10, 20, 30, 60, 64, 120, 128} {
		o.Move[tr] = NewMoveParams(tr)
	}
	for _, w := range m.Walls {
		o.Walls = append(o.Walls, [4]int32{w.MinX, w.MinY, w.MaxX, w.MaxY})
	}
	for _, s := range m.Spawns {
		o.Spawns = append(o.Spawns, [2]int32{s.X, s.Y})
	}
	return json.Marshal(o)
}

// Maps lists the maps the arena ships, by name.
func Maps() map[string]*Map {
	m := DefaultMap()
	return map[string]*Map{m.Name: m}
}
