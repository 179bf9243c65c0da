package arena

// Rect is an axis-aligned rectangle in fixed-point units: the points with
// MinX <= x <= MaxX and MinY <= y <= MaxY. Walls are Rects.
type Rect struct {
	MinX, MinY, MaxX, MaxY int32
}

// Point is a position in fixed-point units.
type Point struct {
	X, Y int32
}

// Map is a static level: its size, its walls (including the border) and
// its spawn points, all in fixed-point units. A Map is never modified by an
// Arena, so one Map may be shared by many.
type Map struct {
	// Name identifies the map to clients, e.g. "arena/yard".
	Name string
	// Width and Height bound the playable area, from (0, 0).
	Width, Height int32
	// Walls block movement and shots. The border is made of walls too.
	Walls []Rect
	// Spawns are the centres players (re)spawn at. Each must leave a
	// player's box clear of every wall.
	Spawns []Point
}

// rectU builds a Rect from world units.
func rectU(minX, minY, maxX, maxY int32) Rect {
	return Rect{U(minX), U(minY), U(maxX), U(maxY)}
}

// pointU builds a Point from world units.
func pointU(x, y int32) Point { return Point{U(x), U(y)} }

// DefaultMap returns a new copy of "arena/yard": a 1600×1000 world-unit
// yard enclosed by 16-unit border walls, with nine cover blocks laid out
// with point symmetry about the centre, and eight spawn points around the
// edges.
func DefaultMap() *Map {
	const w, h, t = 1600, 1000, 16
	return &Map{
		Name:   "arena/yard",
		Width:  U(w),
		Height: U(h),
		Walls: []Rect{
			// Border.
			rectU(0, 0, w, t),
			rectU(0, h-t, w, h),
			rectU(0, t, t, h-t),
			rectU(w-t, t, w, h-t),
			// Centre block.
			rectU(720, 440, 880, 560),
			// Corner bars.
			rectU(300, 200, 420, 240),
			rectU(1180, 200, 1300, 240),
			rectU(300, 760, 420, 800),
			rectU(1180, 760, 1300, 800),
			// Long walls off the centre.
			rectU(560, 100, 600, 300),
			rectU(1000, 700, 1040, 900),
			// Side pillars.
			rectU(200, 440, 240, 560),
			rectU(1360, 440, 1400, 560),
		},
		Spawns: []Point{
			pointU(100, 100),
			pointU(1500, 900),
			pointU(1500, 100),
			pointU(100, 900),
			pointU(800, 100),
			pointU(800, 900),
			pointU(100, 500),
			pointU(1500, 500),
		},
	}
}
