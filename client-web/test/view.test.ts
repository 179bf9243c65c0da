// Snapshot application: the rules of docs/PROTOCOL.md "Snapshots", the same
// as game/view.go.

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EntitySchema, SnapshotSchema, type Snapshot } from "../src/gen/arbiter/v1/snapshot_pb";
import { DesyncError, View } from "../src/game/view";

type SnapInit = MessageInitShape<typeof SnapshotSchema>;

/** Builds a snapshot and sends it through the wire encoding, as the server would. */
function snap(init: SnapInit): Snapshot {
  return fromBinary(SnapshotSchema, toBinary(SnapshotSchema, create(SnapshotSchema, init)));
}

function ent(init: MessageInitShape<typeof EntitySchema>) {
  return create(EntitySchema, init);
}

describe("View", () => {
  it("applies a full snapshot with absent fields as zero", () => {
    const v = new View();
    v.apply(snap({ tick: 10, ackSeq: 3, created: [ent({ id: 1, x: 800, y: -16, health: 100 }), ent({ id: 2, kind: 0, flags: 4 })] }));
    expect(v.synced).toBe(true);
    expect(v.tick).toBe(10);
    expect(v.ackSeq).toBe(3);
    expect(v.entities.get(1)).toMatchObject({ id: 1, kind: 0, x: 800, y: -16, vx: 0, vy: 0, health: 100, flags: 0, score: 0 });
    expect(v.entities.get(2)).toMatchObject({ x: 0, y: 0, flags: 4, health: 0 });
  });

  it("applies a delta: removed, then created, then differences; flags absolute", () => {
    const v = new View();
    v.apply(snap({ tick: 10, created: [ent({ id: 1, x: 800, y: 800, flags: 5, health: 100 }), ent({ id: 2, x: 5 }), ent({ id: 3, x: 7 })] }));
    v.apply(
      snap({
        tick: 11,
        baseAge: 1,
        ackSeq: 4,
        removed: [2, 3],
        // Re-creating a removed id in the same delta is legal: removal comes first.
        created: [ent({ id: 3, x: 100, score: 2 })],
        updated: [ent({ id: 1, x: 20, y: -20, vx: 20, flags: 0, health: -25 }), ent({ id: 3, x: 1 })],
      }),
    );
    expect([...v.entities.keys()].sort()).toEqual([1, 3]);
    expect(v.entities.get(1)).toMatchObject({ x: 820, y: 780, vx: 20, vy: 0, flags: 0, health: 75 });
    expect(v.entities.get(3)).toMatchObject({ x: 101, score: 2 });
    expect(v.tick).toBe(11);
    expect(v.ackSeq).toBe(4);

    // An absent field did not change; a present zero flags is written.
    v.apply(snap({ tick: 13, baseAge: 2, updated: [ent({ id: 1, flags: 1 })] }));
    expect(v.entities.get(1)).toMatchObject({ x: 820, y: 780, flags: 1, health: 75 });
  });

  it("applies moved triplets (id step, dx, dy) after updated", () => {
    const v = new View();
    v.apply(snap({ tick: 1, created: [ent({ id: 2, x: 100, y: 100, vx: 5 }), ent({ id: 5, x: 0, y: 0 }), ent({ id: 9, x: -8, y: 8 })] }));
    v.apply(
      snap({
        tick: 2,
        baseAge: 1,
        updated: [ent({ id: 5, health: 10 })],
        // id 2 (step 2 from 0), id 5 (step 3), id 9 (step 4)
        moved: [2, 58, -20, 3, 1, 1, 4, -58, 0],
      }),
    );
    expect(v.entities.get(2)).toMatchObject({ x: 158, y: 80, vx: 5 });
    expect(v.entities.get(5)).toMatchObject({ x: 1, y: 1, health: 10 });
    expect(v.entities.get(9)).toMatchObject({ x: -66, y: 8 });
    // Wrapping like updated differences.
    v.apply(snap({ tick: 3, baseAge: 1, moved: [9, 2147483647, 0] }));
    expect(v.entities.get(9)!.x).toBe((-66 + 2147483647) | 0);
  });

  it("refuses moved values that are not triplets or name unknown entities", () => {
    const mk = () => {
      const v = new View();
      v.apply(snap({ tick: 1, created: [ent({ id: 1 })] }));
      return v;
    };
    expect(() => mk().apply(snap({ tick: 2, baseAge: 1, moved: [1, 2] }))).toThrow(/not triplets/);
    expect(() => mk().apply(snap({ tick: 2, baseAge: 1, moved: [1, 2, 3, 1, 0, 0] }))).toThrow(/moves unknown entity 2/);
  });

  it("adds differences with 32-bit wrapping", () => {
    const v = new View();
    v.apply(snap({ tick: 1, created: [ent({ id: 1, x: 2147483600, y: -2147483600 })] }));
    v.apply(snap({ tick: 2, baseAge: 1, updated: [ent({ id: 1, x: 100, y: -100 })] }));
    const e = v.entities.get(1)!;
    expect(e.x).toBe((2147483600 + 100) | 0);
    expect(e.x).toBeLessThan(0);
    expect(e.y).toBe((-2147483600 - 100) | 0);
    expect(e.y).toBeGreaterThan(0);
  });

  it("a full snapshot replaces everything", () => {
    const v = new View();
    v.apply(snap({ tick: 5, created: [ent({ id: 1 }), ent({ id: 2 })] }));
    v.apply(snap({ tick: 9, created: [ent({ id: 7, x: 3 })] }));
    expect([...v.entities.keys()]).toEqual([7]);
  });

  it("refuses a delta on the wrong base and stays unsynced until a full snapshot", () => {
    const v = new View();
    expect(() => v.apply(snap({ tick: 3, baseAge: 1 }))).toThrow(DesyncError);
    v.apply(snap({ tick: 10, created: [ent({ id: 1 })] }));
    expect(() => v.apply(snap({ tick: 12, baseAge: 1 }))).toThrow(/based on tick 11, view is at 10/);
    expect(v.synced).toBe(false);
    expect(() => v.apply(snap({ tick: 13, baseAge: 3 }))).toThrow(DesyncError);
    v.apply(snap({ tick: 20, created: [ent({ id: 1, x: 1 })] }));
    expect(v.synced).toBe(true);
    v.apply(snap({ tick: 21, baseAge: 1, updated: [ent({ id: 1, x: 1 })] }));
    expect(v.entities.get(1)!.x).toBe(2);
  });

  it("refuses unknown and duplicate entities and kind changes", () => {
    const mk = () => {
      const v = new View();
      v.apply(snap({ tick: 1, created: [ent({ id: 1 })] }));
      return v;
    };
    expect(() => mk().apply(snap({ tick: 2, baseAge: 1, removed: [9] }))).toThrow(/removes unknown entity 9/);
    expect(() => mk().apply(snap({ tick: 2, baseAge: 1, created: [ent({ id: 1 })] }))).toThrow(/creates existing entity 1/);
    expect(() => mk().apply(snap({ tick: 2, baseAge: 1, updated: [ent({ id: 9, x: 1 })] }))).toThrow(/updates unknown entity 9/);
    expect(() => mk().apply(snap({ tick: 2, baseAge: 1, updated: [ent({ id: 1, kind: 3 })] }))).toThrow(/changes the kind/);
  });

  it("keeps the events of the last snapshot", () => {
    const v = new View();
    v.apply(snap({ tick: 1, created: [ent({ id: 1 })], events: [{ type: 4, tick: 1, actor: 1, x: 8, y: 9 }] }));
    expect(v.events).toHaveLength(1);
    expect(v.events[0]).toMatchObject({ type: 4, actor: 1, x: 8, y: 9 });
    v.apply(snap({ tick: 2, baseAge: 1 }));
    expect(v.events).toHaveLength(0);
  });
});
