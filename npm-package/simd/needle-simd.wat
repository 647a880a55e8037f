;; needle-simd.wasm: the Wasm SIMD (128-bit) matrix kernels of needle-java-wasm.
;;
;; TeaVM compiles the Java engine to scalar Wasm; these hand-written kernels do the engine's two
;; big matrix products with f32x4 arithmetic: the INT4 linear layers and the output projection over
;; the BF16 embedding. The module imports the linear memory of needle.wasm (TeaVM's "env.memory"),
;; where the engine (wasm-bridge's io.needle.wasm.SimdKernels) keeps a copy of the quantized
;; weights and its activation buffers: a call passes addresses and sizes, nothing else crosses.
;;
;; Every result is bit for bit the float the portable Java kernels compute (Int4Linear,
;; Embedding): each output value is computed with the same f32 operations in the same order (one
;; SIMD lane per output value; Wasm has no fused multiply-add here and never reassociates), so the
;; engine decodes the same tokens with or without this module.
;;
;; The attention's softmax uses the engine's own exp (io.needle.model.Exp), here in f64x2 lanes:
;; the same double operations in the same order, so the same bits as the Java code.
;;
;; Compiled by scripts/build.mjs with wabt (npm package "wabt") into the npm package.
(module
  (import "env" "memory" (memory 1))

  ;; ---------------------------------------------------------------- INT4 linear
  ;;
  ;; y[t][c] = sum over groups g of acc[g][t][c] * scale[g][c], groups in order, where
  ;; acc[g][t][c] = sum over row pairs (r, r+1) of group g, in row order, of
  ;; (x[t][r] * q[r][c] + x[t][r+1] * q[r+1][c]); x[t][in] counts as 0 when in is odd.
  ;; q[r][c] is the signed nibble of byte (r/2)*out + c: low nibble for even r, high for odd r.
  ;;
  ;; x: [rows, in] f32; y: [rows, out] f32 (overwritten); w: packed bytes (the file's I4 tensor
  ;; [in_pad/2, out]: rows from in on are padding and only read as the unused high nibble of an odd
  ;; last row); sc: [ceil(in/group), out] f32; scratch: (group rounded up to even)*out f32 of work
  ;; space (used when rows > 1; rows are unpacked in pairs, so an odd group takes one more row).
  ;; group: min(32, in) in needle files, so the last group may be short (in 75: 32, 32, 11) and a
  ;; group may be odd (in 17: one group of 17). out must be a multiple of 16.
  (func (export "int4")
    (param $x i32) (param $y i32) (param $w i32) (param $sc i32)
    (param $rows i32) (param $in i32) (param $out i32) (param $group i32) (param $scratch i32)
    (local $r0 i32) (local $n i32)
    (memory.fill (local.get $y) (i32.const 0)
      (i32.shl (i32.mul (local.get $rows) (local.get $out)) (i32.const 2)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_s (local.get $r0) (local.get $in)))
        ;; n = min(group, in - r0): rows in this group
        (local.set $n (i32.sub (local.get $in) (local.get $r0)))
        (if (i32.gt_s (local.get $n) (local.get $group))
          (then (local.set $n (local.get $group))))
        (if (i32.eq (local.get $rows) (i32.const 1))
          (then
            (call $groupRow
              (i32.add (local.get $x) (i32.shl (local.get $r0) (i32.const 2)))
              (local.get $y)
              (i32.add (local.get $w) (i32.mul (i32.shr_u (local.get $r0) (i32.const 1)) (local.get $out)))
              (local.get $sc)
              (local.get $n)
              (i32.sub (local.get $in) (local.get $r0))
              (local.get $out)))
          (else
            (call $unpack
              (i32.add (local.get $w) (i32.mul (i32.shr_u (local.get $r0) (i32.const 1)) (local.get $out)))
              (local.get $scratch) (local.get $n) (local.get $out))
            (call $groupRows
              (i32.add (local.get $x) (i32.shl (local.get $r0) (i32.const 2)))
              (local.get $y) (local.get $scratch) (local.get $sc)
              (local.get $rows) (local.get $n) (i32.sub (local.get $in) (local.get $r0))
              (local.get $in) (local.get $out))))
        (local.set $sc (i32.add (local.get $sc) (i32.shl (local.get $out) (i32.const 2))))
        (local.set $r0 (i32.add (local.get $r0) (local.get $group)))
        (br $groups))))

  ;; One group for one input row (a decoder step): the nibbles are unpacked on the fly, 16 columns
  ;; (one 16-byte load) at a time, into four f32x4 accumulators.
  ;; xp: x[r0]; wp: the group's first packed byte; scp: the group's scales; n: rows in the group;
  ;; left: in - r0 (x[r0 + k] exists for k < left).
  (func $groupRow
    (param $xp i32) (param $y i32) (param $wp i32) (param $scp i32)
    (param $n i32) (param $left i32) (param $out i32)
    (local $c i32) (local $k i32) (local $p i32) (local $yp i32) (local $sp i32)
    (local $u v128) (local $v v128) (local $b v128) (local $lo v128) (local $hi v128)
    (local $l16 v128) (local $h16 v128) (local $m15 v128) (local $m8 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $m8 (v128.const i8x16 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8))
    (block $cdone
      (loop $cols
        (br_if $cdone (i32.ge_s (local.get $c) (local.get $out)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (local.set $p (i32.add (local.get $wp) (local.get $c)))
        (block $kdone
          (loop $pairs
            (br_if $kdone (i32.ge_s (local.get $k) (local.get $n)))
            (local.set $u (v128.load32_splat
              (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 2)))))
            (local.set $v (v128.load32_splat offset=4
              (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 2)))))
            (if (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $left))
              (then (local.set $v (v128.const i32x4 0 0 0 0))))
            (local.set $b (v128.load (local.get $p)))
            (local.set $lo (call $lowNibbles (local.get $b) (local.get $m15) (local.get $m8)))
            (local.set $hi (call $highNibbles (local.get $b) (local.get $m15) (local.get $m8)))
            ;; columns c..c+7
            (local.set $l16 (i16x8.extend_low_i8x16_s (local.get $lo)))
            (local.set $h16 (i16x8.extend_low_i8x16_s (local.get $hi)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.add
              (f32x4.mul (local.get $u) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $l16))))
              (f32x4.mul (local.get $v) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h16)))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.add
              (f32x4.mul (local.get $u) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $l16))))
              (f32x4.mul (local.get $v) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h16)))))))
            ;; columns c+8..c+15
            (local.set $l16 (i16x8.extend_high_i8x16_s (local.get $lo)))
            (local.set $h16 (i16x8.extend_high_i8x16_s (local.get $hi)))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.add
              (f32x4.mul (local.get $u) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $l16))))
              (f32x4.mul (local.get $v) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h16)))))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.add
              (f32x4.mul (local.get $u) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $l16))))
              (f32x4.mul (local.get $v) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h16)))))))
            (local.set $p (i32.add (local.get $p) (local.get $out)))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $pairs)))
        ;; y[c..c+16] += acc * scale
        (local.set $yp (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $sp (i32.add (local.get $scp) (i32.shl (local.get $c) (i32.const 2))))
        (v128.store offset=0 (local.get $yp) (f32x4.add (v128.load offset=0 (local.get $yp))
          (f32x4.mul (local.get $a0) (v128.load offset=0 (local.get $sp)))))
        (v128.store offset=16 (local.get $yp) (f32x4.add (v128.load offset=16 (local.get $yp))
          (f32x4.mul (local.get $a1) (v128.load offset=16 (local.get $sp)))))
        (v128.store offset=32 (local.get $yp) (f32x4.add (v128.load offset=32 (local.get $yp))
          (f32x4.mul (local.get $a2) (v128.load offset=32 (local.get $sp)))))
        (v128.store offset=48 (local.get $yp) (f32x4.add (v128.load offset=48 (local.get $yp))
          (f32x4.mul (local.get $a3) (v128.load offset=48 (local.get $sp)))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cols))))

  ;; Unpacks the n rows of one group (n/2 rounded up packed rows of `out` bytes at wp) into
  ;; float rows at dst, in blocks of 16 columns: block b (columns 16b..16b+15) holds the group's
  ;; rows one after the other, row k at dst + b*nPad*64 + k*64 (nPad: n rounded up to even; a
  ;; missing odd last row gets the high nibbles, which are then multiplied by 0). So the many-rows
  ;; kernel finds the weights of a row pair at constant offsets from one pointer.
  (func $unpack (param $wp i32) (param $dst i32) (param $n i32) (param $out i32)
    (local $k i32) (local $c i32) (local $b v128) (local $lo v128) (local $hi v128)
    (local $l16 v128) (local $h16 v128) (local $dl i32) (local $block i32) (local $m15 v128) (local $m8 v128)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $m8 (v128.const i8x16 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8))
    (local.set $block (i32.shl (i32.and (i32.add (local.get $n) (i32.const 1)) (i32.const -2)) (i32.const 6)))
    (block $kdone
      (loop $pairs
        (br_if $kdone (i32.ge_s (local.get $k) (local.get $n)))
        ;; row k at dl (offsets 0..63), row k+1 right after it (64..127)
        (local.set $dl (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 6))))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cols
            (br_if $cdone (i32.ge_s (local.get $c) (local.get $out)))
            (local.set $b (v128.load (i32.add (local.get $wp) (local.get $c))))
            (local.set $lo (call $lowNibbles (local.get $b) (local.get $m15) (local.get $m8)))
            (local.set $hi (call $highNibbles (local.get $b) (local.get $m15) (local.get $m8)))
            (local.set $l16 (i16x8.extend_low_i8x16_s (local.get $lo)))
            (local.set $h16 (i16x8.extend_low_i8x16_s (local.get $hi)))
            (v128.store offset=0 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $l16))))
            (v128.store offset=16 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $l16))))
            (v128.store offset=64 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h16))))
            (v128.store offset=80 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h16))))
            (local.set $l16 (i16x8.extend_high_i8x16_s (local.get $lo)))
            (local.set $h16 (i16x8.extend_high_i8x16_s (local.get $hi)))
            (v128.store offset=32 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $l16))))
            (v128.store offset=48 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $l16))))
            (v128.store offset=96 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h16))))
            (v128.store offset=112 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h16))))
            (local.set $dl (i32.add (local.get $dl) (local.get $block)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cols)))
        (local.set $wp (i32.add (local.get $wp) (local.get $out)))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $pairs))))

  ;; One group for many input rows (the encoder): the unpacked group at ws ($unpack's blocks of
  ;; 16 columns) is applied to every input row, 16 columns by 2 input rows at a time (8
  ;; accumulators), then 16 columns by 1 row for an odd last row.
  ;; xp: x[0][r0]; ws: the unpacked group; scp: the group's scales; left: in - r0.
  ;; Registers: V8 gives Wasm 15 of x86's 16 xmm registers. A pass over a row pair keeps 8
  ;; accumulators and the two rows' 4 splats, and computes per 4 columns both rows' products with
  ;; the low weight row first (l is then dead) and then each row's product with the high weight row,
  ;; loaded where used (loaded twice: a load is cheaper than the spill that keeping l and h both
  ;; live costs): 15 registers, no spills. Tiles of 3 rows (12 accumulators) spill and ran slower;
  ;; bench/int4-tiles.mjs measures the alternatives.
  (func $groupRows
    (param $xp i32) (param $y i32) (param $ws i32) (param $scp i32)
    (param $rows i32) (param $n i32) (param $left i32) (param $in i32) (param $out i32)
    (local $c i32) (local $t i32) (local $k i32) (local $rowBytes i32) (local $inBytes i32)
    (local $block i32) (local $wb i32) (local $wl i32) (local $yp i32) (local $l v128)
    (local $x0 i32) (local $u0 v128) (local $v0 v128) (local $p0 v128) (local $x1 i32) (local $u1 v128) (local $v1 v128) (local $p1 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a13 v128)
    (local.set $rowBytes (i32.shl (local.get $out) (i32.const 2)))
    (local.set $inBytes (i32.shl (local.get $in) (i32.const 2)))
    ;; a block of 16 columns: n rounded up to even rows of 64 bytes
    (local.set $block (i32.shl (i32.and (i32.add (local.get $n) (i32.const 1)) (i32.const -2)) (i32.const 6)))
    (local.set $wb (local.get $ws))
    (block $cdone
      (loop $cols
        (br_if $cdone (i32.ge_s (local.get $c) (local.get $out)))
        (local.set $s0 (v128.load offset=0 (i32.add (local.get $scp) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $s1 (v128.load offset=16 (i32.add (local.get $scp) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $s2 (v128.load offset=32 (i32.add (local.get $scp) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $s3 (v128.load offset=48 (i32.add (local.get $scp) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (block $tilesdone
          (loop $tiles
            (br_if $tilesdone (i32.gt_s (i32.add (local.get $t) (i32.const 2)) (local.get $rows)))
            (local.set $a00 (v128.const i32x4 0 0 0 0))
            (local.set $a01 (v128.const i32x4 0 0 0 0))
            (local.set $a02 (v128.const i32x4 0 0 0 0))
            (local.set $a03 (v128.const i32x4 0 0 0 0))
            (local.set $a10 (v128.const i32x4 0 0 0 0))
            (local.set $a11 (v128.const i32x4 0 0 0 0))
            (local.set $a12 (v128.const i32x4 0 0 0 0))
            (local.set $a13 (v128.const i32x4 0 0 0 0))
            (local.set $x0 (i32.add (local.get $xp) (i32.mul (local.get $t) (local.get $inBytes))))
            (local.set $x1 (i32.add (local.get $x0) (local.get $inBytes)))
            (local.set $wl (local.get $wb))
            (local.set $k (i32.const 0))
            (block $kdone
              (loop $pairs
                (br_if $kdone (i32.ge_s (local.get $k) (local.get $n)))
                (local.set $u0 (v128.load32_splat (local.get $x0)))
                (local.set $v0 (v128.load32_splat offset=4 (local.get $x0)))
                (local.set $u1 (v128.load32_splat (local.get $x1)))
                (local.set $v1 (v128.load32_splat offset=4 (local.get $x1)))
                (if (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $left))
                  (then
                    (local.set $v0 (v128.const i32x4 0 0 0 0))
                    (local.set $v1 (v128.const i32x4 0 0 0 0))))
                ;; columns +0..+3: both rows' low-row products, then each row's high-row product
                (local.set $l (v128.load offset=0 (local.get $wl)))
                (local.set $p0 (f32x4.mul (local.get $u0) (local.get $l)))
                (local.set $p1 (f32x4.mul (local.get $u1) (local.get $l)))
                (local.set $a00 (f32x4.add (local.get $a00) (f32x4.add (local.get $p0) (f32x4.mul (local.get $v0) (v128.load offset=64 (local.get $wl))))))
                (local.set $a10 (f32x4.add (local.get $a10) (f32x4.add (local.get $p1) (f32x4.mul (local.get $v1) (v128.load offset=64 (local.get $wl))))))
                ;; columns +4..+7: both rows' low-row products, then each row's high-row product
                (local.set $l (v128.load offset=16 (local.get $wl)))
                (local.set $p0 (f32x4.mul (local.get $u0) (local.get $l)))
                (local.set $p1 (f32x4.mul (local.get $u1) (local.get $l)))
                (local.set $a01 (f32x4.add (local.get $a01) (f32x4.add (local.get $p0) (f32x4.mul (local.get $v0) (v128.load offset=80 (local.get $wl))))))
                (local.set $a11 (f32x4.add (local.get $a11) (f32x4.add (local.get $p1) (f32x4.mul (local.get $v1) (v128.load offset=80 (local.get $wl))))))
                ;; columns +8..+11: both rows' low-row products, then each row's high-row product
                (local.set $l (v128.load offset=32 (local.get $wl)))
                (local.set $p0 (f32x4.mul (local.get $u0) (local.get $l)))
                (local.set $p1 (f32x4.mul (local.get $u1) (local.get $l)))
                (local.set $a02 (f32x4.add (local.get $a02) (f32x4.add (local.get $p0) (f32x4.mul (local.get $v0) (v128.load offset=96 (local.get $wl))))))
                (local.set $a12 (f32x4.add (local.get $a12) (f32x4.add (local.get $p1) (f32x4.mul (local.get $v1) (v128.load offset=96 (local.get $wl))))))
                ;; columns +12..+15: both rows' low-row products, then each row's high-row product
                (local.set $l (v128.load offset=48 (local.get $wl)))
                (local.set $p0 (f32x4.mul (local.get $u0) (local.get $l)))
                (local.set $p1 (f32x4.mul (local.get $u1) (local.get $l)))
                (local.set $a03 (f32x4.add (local.get $a03) (f32x4.add (local.get $p0) (f32x4.mul (local.get $v0) (v128.load offset=112 (local.get $wl))))))
                (local.set $a13 (f32x4.add (local.get $a13) (f32x4.add (local.get $p1) (f32x4.mul (local.get $v1) (v128.load offset=112 (local.get $wl))))))
                (local.set $x0 (i32.add (local.get $x0) (i32.const 8)))
                (local.set $x1 (i32.add (local.get $x1) (i32.const 8)))
                (local.set $wl (i32.add (local.get $wl) (i32.const 128)))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $pairs)))
            (local.set $yp (i32.add (local.get $y)
              (i32.shl (i32.add (i32.mul (local.get $t) (local.get $out)) (local.get $c)) (i32.const 2))))
            (v128.store offset=0 (local.get $yp) (f32x4.add (v128.load offset=0 (local.get $yp)) (f32x4.mul (local.get $a00) (local.get $s0))))
            (v128.store offset=16 (local.get $yp) (f32x4.add (v128.load offset=16 (local.get $yp)) (f32x4.mul (local.get $a01) (local.get $s1))))
            (v128.store offset=32 (local.get $yp) (f32x4.add (v128.load offset=32 (local.get $yp)) (f32x4.mul (local.get $a02) (local.get $s2))))
            (v128.store offset=48 (local.get $yp) (f32x4.add (v128.load offset=48 (local.get $yp)) (f32x4.mul (local.get $a03) (local.get $s3))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (v128.store offset=0 (local.get $yp) (f32x4.add (v128.load offset=0 (local.get $yp)) (f32x4.mul (local.get $a10) (local.get $s0))))
            (v128.store offset=16 (local.get $yp) (f32x4.add (v128.load offset=16 (local.get $yp)) (f32x4.mul (local.get $a11) (local.get $s1))))
            (v128.store offset=32 (local.get $yp) (f32x4.add (v128.load offset=32 (local.get $yp)) (f32x4.mul (local.get $a12) (local.get $s2))))
            (v128.store offset=48 (local.get $yp) (f32x4.add (v128.load offset=48 (local.get $yp)) (f32x4.mul (local.get $a13) (local.get $s3))))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $tiles)))
        (block $singledone
          (loop $single
            (br_if $singledone (i32.gt_s (i32.add (local.get $t) (i32.const 1)) (local.get $rows)))
            (local.set $a00 (v128.const i32x4 0 0 0 0))
            (local.set $a01 (v128.const i32x4 0 0 0 0))
            (local.set $a02 (v128.const i32x4 0 0 0 0))
            (local.set $a03 (v128.const i32x4 0 0 0 0))
            (local.set $x0 (i32.add (local.get $xp) (i32.mul (local.get $t) (local.get $inBytes))))
            (local.set $wl (local.get $wb))
            (local.set $k (i32.const 0))
            (block $kdone1
              (loop $pairs1
                (br_if $kdone1 (i32.ge_s (local.get $k) (local.get $n)))
                (local.set $u0 (v128.load32_splat (local.get $x0)))
                (local.set $v0 (v128.load32_splat offset=4 (local.get $x0)))
                (if (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $left))
                  (then
                    (local.set $v0 (v128.const i32x4 0 0 0 0))))
                (local.set $a00 (f32x4.add (local.get $a00) (f32x4.add
                  (f32x4.mul (local.get $u0) (v128.load offset=0 (local.get $wl))) (f32x4.mul (local.get $v0) (v128.load offset=64 (local.get $wl))))))
                (local.set $a01 (f32x4.add (local.get $a01) (f32x4.add
                  (f32x4.mul (local.get $u0) (v128.load offset=16 (local.get $wl))) (f32x4.mul (local.get $v0) (v128.load offset=80 (local.get $wl))))))
                (local.set $a02 (f32x4.add (local.get $a02) (f32x4.add
                  (f32x4.mul (local.get $u0) (v128.load offset=32 (local.get $wl))) (f32x4.mul (local.get $v0) (v128.load offset=96 (local.get $wl))))))
                (local.set $a03 (f32x4.add (local.get $a03) (f32x4.add
                  (f32x4.mul (local.get $u0) (v128.load offset=48 (local.get $wl))) (f32x4.mul (local.get $v0) (v128.load offset=112 (local.get $wl))))))
                (local.set $x0 (i32.add (local.get $x0) (i32.const 8)))
                (local.set $wl (i32.add (local.get $wl) (i32.const 128)))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $pairs1)))
            (local.set $yp (i32.add (local.get $y)
              (i32.shl (i32.add (i32.mul (local.get $t) (local.get $out)) (local.get $c)) (i32.const 2))))
            (v128.store offset=0 (local.get $yp) (f32x4.add (v128.load offset=0 (local.get $yp)) (f32x4.mul (local.get $a00) (local.get $s0))))
            (v128.store offset=16 (local.get $yp) (f32x4.add (v128.load offset=16 (local.get $yp)) (f32x4.mul (local.get $a01) (local.get $s1))))
            (v128.store offset=32 (local.get $yp) (f32x4.add (v128.load offset=32 (local.get $yp)) (f32x4.mul (local.get $a02) (local.get $s2))))
            (v128.store offset=48 (local.get $yp) (f32x4.add (v128.load offset=48 (local.get $yp)) (f32x4.mul (local.get $a03) (local.get $s3))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $single)))
        (local.set $wb (i32.add (local.get $wb) (local.get $block)))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cols))))


  ;; ---------------------------------------------------------------- output projection
  ;;
  ;; The BF16 embedding is kept in blocks of 16 vocabulary rows: block b holds, for each dimension
  ;; i in order, the 16 values E[16b + j][i] (j = 0..15, 32 bytes). A BF16 value is the high half
  ;; of an f32's bits, so the 16-bit lanes of a 16-byte load give two f32x4 with one operation
  ;; each: shl 16 (rows 0, 2, 4, 6) and the high halves masked (rows 1, 3, 5, 7).

  ;; out[16b + j] = sum over i in order of h[i] * E[16b + j][i], for blocks b in [b0, b1).
  (func (export "logits")
    (param $h i32) (param $out i32) (param $emb i32) (param $b0 i32) (param $b1 i32) (param $dim i32)
    (local $b i32) (local $i i32) (local $p i32) (local $hp i32) (local $op i32)
    (local $hv v128) (local $e0 v128) (local $e1 v128) (local $high v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    ;; the mask of the odd rows' halves, set once (a v128.const in the loop costs 3 instructions a pass)
    (local.set $high (v128.const i32x4 0xffff0000 0xffff0000 0xffff0000 0xffff0000))
    (local.set $b (local.get $b0))
    (local.set $p (i32.add (local.get $emb) (i32.mul (local.get $b0) (i32.shl (local.get $dim) (i32.const 5)))))
    (block $bdone
      (loop $blocks
        (br_if $bdone (i32.ge_s (local.get $b) (local.get $b1)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $hp (local.get $h))
        (local.set $i (local.get $dim))
        (block $idone
          (loop $dims
            (br_if $idone (i32.eqz (local.get $i)))
            (local.set $hv (v128.load32_splat (local.get $hp)))
            (local.set $e0 (v128.load offset=0 (local.get $p)))
            (local.set $e1 (v128.load offset=16 (local.get $p)))
            (local.set $a0 (f32x4.add (local.get $a0)
              (f32x4.mul (local.get $hv) (i32x4.shl (local.get $e0) (i32.const 16)))))
            (local.set $a1 (f32x4.add (local.get $a1)
              (f32x4.mul (local.get $hv) (v128.and (local.get $e0) (local.get $high)))))
            (local.set $a2 (f32x4.add (local.get $a2)
              (f32x4.mul (local.get $hv) (i32x4.shl (local.get $e1) (i32.const 16)))))
            (local.set $a3 (f32x4.add (local.get $a3)
              (f32x4.mul (local.get $hv) (v128.and (local.get $e1) (local.get $high)))))
            (local.set $hp (i32.add (local.get $hp) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $dims)))
        ;; rows in order: interleave the even-row and odd-row accumulators
        (local.set $op (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 6))))
        (v128.store offset=0 (local.get $op)
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)))
        (v128.store offset=16 (local.get $op)
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1)))
        (v128.store offset=32 (local.get $op)
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)))
        (v128.store offset=48 (local.get $op)
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks))))

  ;; out[k] = sum over i in order of h[i] * E[ids[k]][i] for k in [0, count): four ids at a time,
  ;; one per lane (each lane gathers its row's 16-bit values from the blocked layout).
  (func (export "logitsAt")
    (param $h i32) (param $out i32) (param $emb i32) (param $ids i32) (param $count i32) (param $dim i32)
    (local $k i32) (local $i i32) (local $hp i32) (local $rowBlock i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $e v128) (local $acc v128) (local $sum f32)
    (local.set $rowBlock (i32.shl (local.get $dim) (i32.const 5)))
    (block $kdone
      (loop $quads
        (br_if $kdone (i32.gt_s (i32.add (local.get $k) (i32.const 4)) (local.get $count)))
        (local.set $p0 (call $rowStart (local.get $emb) (i32.load offset=0 (local.get $ids)) (local.get $rowBlock)))
        (local.set $p1 (call $rowStart (local.get $emb) (i32.load offset=4 (local.get $ids)) (local.get $rowBlock)))
        (local.set $p2 (call $rowStart (local.get $emb) (i32.load offset=8 (local.get $ids)) (local.get $rowBlock)))
        (local.set $p3 (call $rowStart (local.get $emb) (i32.load offset=12 (local.get $ids)) (local.get $rowBlock)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $e (v128.const i32x4 0 0 0 0))
        (local.set $hp (local.get $h))
        (local.set $i (local.get $dim))
        (block $idone
          (loop $dims
            (br_if $idone (i32.eqz (local.get $i)))
            (local.set $e (v128.load16_lane 0 (local.get $p0) (local.get $e)))
            (local.set $e (v128.load16_lane 1 (local.get $p1) (local.get $e)))
            (local.set $e (v128.load16_lane 2 (local.get $p2) (local.get $e)))
            (local.set $e (v128.load16_lane 3 (local.get $p3) (local.get $e)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load32_splat (local.get $hp))
                (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $e)) (i32.const 16)))))
            (local.set $hp (i32.add (local.get $hp) (i32.const 4)))
            (local.set $p0 (i32.add (local.get $p0) (i32.const 32)))
            (local.set $p1 (i32.add (local.get $p1) (i32.const 32)))
            (local.set $p2 (i32.add (local.get $p2) (i32.const 32)))
            (local.set $p3 (i32.add (local.get $p3) (i32.const 32)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $dims)))
        (v128.store (local.get $out) (local.get $acc))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $quads)))
    ;; the last ids, one at a time
    (block $tdone
      (loop $tail
        (br_if $tdone (i32.ge_s (local.get $k) (local.get $count)))
        (local.set $p0 (call $rowStart (local.get $emb) (i32.load (local.get $ids)) (local.get $rowBlock)))
        (local.set $sum (f32.const 0))
        (local.set $hp (local.get $h))
        (local.set $i (local.get $dim))
        (block $idone1
          (loop $dims1
            (br_if $idone1 (i32.eqz (local.get $i)))
            (local.set $sum (f32.add (local.get $sum)
              (f32.mul (f32.load (local.get $hp))
                (f32.reinterpret_i32 (i32.shl (i32.load16_u (local.get $p0)) (i32.const 16))))))
            (local.set $hp (i32.add (local.get $hp) (i32.const 4)))
            (local.set $p0 (i32.add (local.get $p0) (i32.const 32)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $dims1)))
        (f32.store (local.get $out) (local.get $sum))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tail))))

  ;; ---------------------------------------------------------------- attention
  ;;
  ;; Attention's core (io.needle.model.Attention.attend) for `rows` queries, the same float
  ;; operations in the same order: per query row t and head h (KV head kvh = h / (heads/kvHeads)),
  ;;   score[j] = sum over i in order of q[t][h][i] * K[kvh][i][j]          (one lane per key j)
  ;;   s[j] = visible(j) ? score[j] * scale : -FLT_MAX; max over j
  ;;   e[j] = (f32) exp((f64) (s[j] - max)) ($exps); sum += e[j] in f64, j in order; inv = (f32) (1 / sum)
  ;;   ctx[t][h][i] = sum over j in order, skipping p = e[j] * inv = 0, of p * V[j][kvh][i]
  ;;                                                                        (one lane per dimension i)
  ;; visible(j): valid[j] != 0 and, when causal, j <= pos0 + t.
  ;; q, ctx: [rows][heads*hd] f32; kT: [kvHeads*hd][stride] f32 (keys transposed, stride a multiple
  ;; of 4 >= keys); v: [keys][kvHeads*hd] f32; valid: [keys] bytes; sc: stride f32 of work space.
  ;; hd must be a multiple of 4.
  (func (export "attend")
    (param $q i32) (param $kT i32) (param $v i32) (param $valid i32) (param $ctx i32) (param $sc i32)
    (param $rows i32) (param $keys i32) (param $stride i32) (param $heads i32) (param $kvHeads i32)
    (param $hd i32) (param $scale f32) (param $pos0 i32) (param $causal i32)
    (local $t i32) (local $h i32) (local $kvh i32) (local $group i32) (local $i i32) (local $j i32)
    (local $qp i32) (local $kp i32) (local $sp i32) (local $vp i32) (local $op i32) (local $vRow i32)
    (local $qi v128) (local $acc v128) (local $s f32) (local $max f32) (local $p f32)
    (local $sum f64) (local $inv f32) (local $last i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $kRow i32) (local $pv v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $group (i32.div_u (local.get $heads) (local.get $kvHeads)))
    (local.set $vRow (i32.shl (i32.mul (local.get $kvHeads) (local.get $hd)) (i32.const 2)))
    (local.set $t (i32.const 0))
    (block $tdone
      (loop $queries
        (br_if $tdone (i32.ge_s (local.get $t) (local.get $rows)))
        ;; the last visible key position of row t under the causal mask
        (local.set $last (select (i32.add (local.get $pos0) (local.get $t)) (local.get $keys) (local.get $causal)))
        (local.set $h (i32.const 0))
        (block $hdone
          (loop $headsLoop
            (br_if $hdone (i32.ge_s (local.get $h) (local.get $heads)))
            (local.set $kvh (i32.div_u (local.get $h) (local.get $group)))
            (local.set $qp (i32.add (local.get $q) (i32.shl
              (i32.add (i32.mul (local.get $t) (i32.mul (local.get $heads) (local.get $hd)))
                (i32.mul (local.get $h) (local.get $hd))) (i32.const 2))))
            ;; scores: blocks of 32 keys with their sums in 8 registers over the dimensions in
            ;; order (each score 0 + q0*k0 + q1*k1 + ..., as Attention's loop; 8 independent sums
            ;; keep the adds' latency covered, 4 did not), then a block of 16 in 4 registers, then
            ;; the last keys four at a time through the scores buffer
            (local.set $kRow (i32.shl (local.get $stride) (i32.const 2)))
            (local.set $kp (i32.add (local.get $kT)
              (i32.shl (i32.mul (i32.mul (local.get $kvh) (local.get $hd)) (local.get $stride)) (i32.const 2))))
            (local.set $j (i32.const 0))
            (block $b32done
              (loop $b32
                (br_if $b32done (i32.gt_s (i32.add (local.get $j) (i32.const 32)) (local.get $stride)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $a4 (v128.const i32x4 0 0 0 0))
                (local.set $a5 (v128.const i32x4 0 0 0 0))
                (local.set $a6 (v128.const i32x4 0 0 0 0))
                (local.set $a7 (v128.const i32x4 0 0 0 0))
                (local.set $sp (i32.add (local.get $kp) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $i (i32.const 0))
                (block $b32idone
                  (loop $b32dims
                    (br_if $b32idone (i32.ge_s (local.get $i) (local.get $hd)))
                    (local.set $qi (v128.load32_splat (i32.add (local.get $qp) (i32.shl (local.get $i) (i32.const 2)))))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qi) (v128.load offset=0 (local.get $sp)))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $qi) (v128.load offset=16 (local.get $sp)))))
                    (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $qi) (v128.load offset=32 (local.get $sp)))))
                    (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $qi) (v128.load offset=48 (local.get $sp)))))
                    (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $qi) (v128.load offset=64 (local.get $sp)))))
                    (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $qi) (v128.load offset=80 (local.get $sp)))))
                    (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $qi) (v128.load offset=96 (local.get $sp)))))
                    (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $qi) (v128.load offset=112 (local.get $sp)))))
                    (local.set $sp (i32.add (local.get $sp) (local.get $kRow)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $b32dims)))
                (local.set $sp (i32.add (local.get $sc) (i32.shl (local.get $j) (i32.const 2))))
                (v128.store offset=0 (local.get $sp) (local.get $a0))
                (v128.store offset=16 (local.get $sp) (local.get $a1))
                (v128.store offset=32 (local.get $sp) (local.get $a2))
                (v128.store offset=48 (local.get $sp) (local.get $a3))
                (v128.store offset=64 (local.get $sp) (local.get $a4))
                (v128.store offset=80 (local.get $sp) (local.get $a5))
                (v128.store offset=96 (local.get $sp) (local.get $a6))
                (v128.store offset=112 (local.get $sp) (local.get $a7))
                (local.set $j (i32.add (local.get $j) (i32.const 32)))
                (br $b32)))
            (block $bdone
              (loop $blocks
                (br_if $bdone (i32.gt_s (i32.add (local.get $j) (i32.const 16)) (local.get $stride)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $sp (i32.add (local.get $kp) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $i (i32.const 0))
                (block $bidone
                  (loop $bdims
                    (br_if $bidone (i32.ge_s (local.get $i) (local.get $hd)))
                    (local.set $qi (v128.load32_splat (i32.add (local.get $qp) (i32.shl (local.get $i) (i32.const 2)))))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qi) (v128.load offset=0 (local.get $sp)))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $qi) (v128.load offset=16 (local.get $sp)))))
                    (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $qi) (v128.load offset=32 (local.get $sp)))))
                    (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $qi) (v128.load offset=48 (local.get $sp)))))
                    (local.set $sp (i32.add (local.get $sp) (local.get $kRow)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $bdims)))
                (local.set $sp (i32.add (local.get $sc) (i32.shl (local.get $j) (i32.const 2))))
                (v128.store offset=0 (local.get $sp) (local.get $a0))
                (v128.store offset=16 (local.get $sp) (local.get $a1))
                (v128.store offset=32 (local.get $sp) (local.get $a2))
                (v128.store offset=48 (local.get $sp) (local.get $a3))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $blocks)))
            (if (i32.lt_s (local.get $j) (local.get $stride))
              (then
                (memory.fill (i32.add (local.get $sc) (i32.shl (local.get $j) (i32.const 2))) (i32.const 0)
                  (i32.shl (i32.sub (local.get $stride) (local.get $j)) (i32.const 2)))
                (local.set $last (local.get $j)) ;; (reused below as the first key of the rest)
                (local.set $i (i32.const 0))
                (block $idone
                  (loop $dims
                    (br_if $idone (i32.ge_s (local.get $i) (local.get $hd)))
                    (local.set $qi (v128.load32_splat (i32.add (local.get $qp) (i32.shl (local.get $i) (i32.const 2)))))
                    (local.set $sp (i32.add (local.get $sc) (i32.shl (local.get $last) (i32.const 2))))
                    (local.set $vp (i32.add (local.get $kp) (i32.add (i32.mul (local.get $i) (local.get $kRow))
                      (i32.shl (local.get $last) (i32.const 2)))))
                    (local.set $j (local.get $last))
                    (block $jdone
                      (loop $keyLoop
                        (br_if $jdone (i32.ge_s (local.get $j) (local.get $stride)))
                        (v128.store (local.get $sp) (f32x4.add (v128.load (local.get $sp))
                          (f32x4.mul (local.get $qi) (v128.load (local.get $vp)))))
                        (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
                        (local.set $vp (i32.add (local.get $vp) (i32.const 16)))
                        (local.set $j (i32.add (local.get $j) (i32.const 4)))
                        (br $keyLoop)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $dims)))
                ;; the causal mask's last visible key again
                (local.set $last (select (i32.add (local.get $pos0) (local.get $t)) (local.get $keys) (local.get $causal)))))
            ;; mask, scale, max
            (local.set $max (f32.const -0x1.fffffep+127))
            (local.set $j (i32.const 0))
            (block $mdone
              (loop $mask
                (br_if $mdone (i32.ge_s (local.get $j) (local.get $keys)))
                (local.set $sp (i32.add (local.get $sc) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $s (select
                  (f32.mul (f32.load (local.get $sp)) (local.get $scale))
                  (f32.const -0x1.fffffep+127)
                  (i32.and (i32.load8_u (i32.add (local.get $valid) (local.get $j)))
                    (i32.or (i32.eqz (local.get $causal)) (i32.le_s (local.get $j) (local.get $last))))))
                (f32.store (local.get $sp) (local.get $s))
                (if (f32.gt (local.get $s) (local.get $max)) (then (local.set $max (local.get $s))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $mask)))
            ;; exponentials (in lanes; sc has room for stride >= keys floats) and their sum (f64, in order)
            (local.set $sum (call $exps (local.get $sc) (local.get $keys) (local.get $max)))
            (local.set $inv (f32.demote_f64 (f64.div (f64.const 1) (local.get $sum))))
            ;; probabilities, four keys a pass (each p = e * inv, one f32 multiplication; sc has
            ;; room for keys rounded up to 4: the lanes past keys are computed, never read)
            (local.set $pv (f32x4.splat (local.get $inv)))
            (local.set $j (i32.const 0))
            (block $pdone
              (loop $probs
                (br_if $pdone (i32.ge_s (local.get $j) (local.get $keys)))
                (local.set $sp (i32.add (local.get $sc) (i32.shl (local.get $j) (i32.const 2))))
                (v128.store (local.get $sp) (f32x4.mul (v128.load (local.get $sp)) (local.get $pv)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $probs)))
            ;; weighted values: 32 dimensions per pass (8 registers), then 16 (4), then four at a
            ;; time; each dimension a sum over the keys in order, skipping p == 0, as Attention's loop
            (local.set $op (i32.sub (local.get $qp) (local.get $q)))
            (local.set $op (i32.add (local.get $ctx) (local.get $op)))
            (local.set $i (i32.const 0))
            (block $w32done
              (loop $w32
                (br_if $w32done (i32.gt_s (i32.add (local.get $i) (i32.const 32)) (local.get $hd)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $a4 (v128.const i32x4 0 0 0 0))
                (local.set $a5 (v128.const i32x4 0 0 0 0))
                (local.set $a6 (v128.const i32x4 0 0 0 0))
                (local.set $a7 (v128.const i32x4 0 0 0 0))
                (local.set $vp (i32.add (local.get $v) (i32.shl
                  (i32.add (i32.mul (local.get $kvh) (local.get $hd)) (local.get $i)) (i32.const 2))))
                (local.set $sp (local.get $sc))
                (local.set $j (i32.const 0))
                (block $v32done
                  (loop $v32
                    (br_if $v32done (i32.ge_s (local.get $j) (local.get $keys)))
                    (local.set $p (f32.load (local.get $sp)))
                    (if (f32.ne (local.get $p) (f32.const 0))
                      (then
                        (local.set $pv (f32x4.splat (local.get $p)))
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $pv) (v128.load offset=0 (local.get $vp)))))
                        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $pv) (v128.load offset=16 (local.get $vp)))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $pv) (v128.load offset=32 (local.get $vp)))))
                        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $pv) (v128.load offset=48 (local.get $vp)))))
                        (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $pv) (v128.load offset=64 (local.get $vp)))))
                        (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $pv) (v128.load offset=80 (local.get $vp)))))
                        (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $pv) (v128.load offset=96 (local.get $vp)))))
                        (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $pv) (v128.load offset=112 (local.get $vp)))))))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
                    (local.set $vp (i32.add (local.get $vp) (local.get $vRow)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $v32)))
                (local.set $sp (i32.add (local.get $op) (i32.shl (local.get $i) (i32.const 2))))
                (v128.store offset=0 (local.get $sp) (local.get $a0))
                (v128.store offset=16 (local.get $sp) (local.get $a1))
                (v128.store offset=32 (local.get $sp) (local.get $a2))
                (v128.store offset=48 (local.get $sp) (local.get $a3))
                (v128.store offset=64 (local.get $sp) (local.get $a4))
                (v128.store offset=80 (local.get $sp) (local.get $a5))
                (v128.store offset=96 (local.get $sp) (local.get $a6))
                (v128.store offset=112 (local.get $sp) (local.get $a7))
                (local.set $i (i32.add (local.get $i) (i32.const 32)))
                (br $w32)))
            (block $w16done
              (loop $w16
                (br_if $w16done (i32.gt_s (i32.add (local.get $i) (i32.const 16)) (local.get $hd)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $vp (i32.add (local.get $v) (i32.shl
                  (i32.add (i32.mul (local.get $kvh) (local.get $hd)) (local.get $i)) (i32.const 2))))
                (local.set $sp (local.get $sc))
                (local.set $j (i32.const 0))
                (block $v16done
                  (loop $v16
                    (br_if $v16done (i32.ge_s (local.get $j) (local.get $keys)))
                    (local.set $p (f32.load (local.get $sp)))
                    (if (f32.ne (local.get $p) (f32.const 0))
                      (then
                        (local.set $pv (f32x4.splat (local.get $p)))
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $pv) (v128.load offset=0 (local.get $vp)))))
                        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $pv) (v128.load offset=16 (local.get $vp)))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $pv) (v128.load offset=32 (local.get $vp)))))
                        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $pv) (v128.load offset=48 (local.get $vp)))))))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
                    (local.set $vp (i32.add (local.get $vp) (local.get $vRow)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $v16)))
                (local.set $sp (i32.add (local.get $op) (i32.shl (local.get $i) (i32.const 2))))
                (v128.store offset=0 (local.get $sp) (local.get $a0))
                (v128.store offset=16 (local.get $sp) (local.get $a1))
                (v128.store offset=32 (local.get $sp) (local.get $a2))
                (v128.store offset=48 (local.get $sp) (local.get $a3))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $w16)))
            (block $wdone
              (loop $wdims
                (br_if $wdone (i32.ge_s (local.get $i) (local.get $hd)))
                (local.set $acc (v128.const i32x4 0 0 0 0))
                (local.set $vp (i32.add (local.get $v) (i32.shl
                  (i32.add (i32.mul (local.get $kvh) (local.get $hd)) (local.get $i)) (i32.const 2))))
                (local.set $sp (local.get $sc))
                (local.set $j (i32.const 0))
                (block $vdone
                  (loop $vkeys
                    (br_if $vdone (i32.ge_s (local.get $j) (local.get $keys)))
                    (local.set $p (f32.load (local.get $sp)))
                    (if (f32.ne (local.get $p) (f32.const 0))
                      (then
                        (local.set $acc (f32x4.add (local.get $acc)
                          (f32x4.mul (f32x4.splat (local.get $p)) (v128.load (local.get $vp)))))))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
                    (local.set $vp (i32.add (local.get $vp) (local.get $vRow)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $vkeys)))
                (v128.store (i32.add (local.get $op) (i32.shl (local.get $i) (i32.const 2))) (local.get $acc))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $wdims)))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $headsLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $queries))))

  ;; ---------------------------------------------------------------- exp
  ;;
  ;; The softmax's exponentials in place, s[j] = (f32) exp((f64) (s[j] - max)) for j < n, with
  ;; the engine's exp (io.needle.model.Exp.exp, whose comment explains the recipe and the
  ;; constants) in f64x2 lanes: the same double operations in the same order, so the same bits.
  ;; The clamps pmax(x, LOWEST) and pmin(x, HIGHEST) are Java's `x < LOWEST ? LOWEST : x` and
  ;; `x > HIGHEST ? HIGHEST : x` (NaN passes); IEEE multiplication and addition commute, so
  ;; r*C11 is Java's C11*r. Four keys per pass: f32x4.sub (Java's float subtraction), then the two
  ;; f64x2 halves a and b side by side (independent, so the CPU overlaps them); the constants are
  ;; locals set once (a v128.const in the loop costs instructions every time). The buffer must
  ;; have room for n rounded up to 4 floats: the lanes past n are computed and stored, never
  ;; read. Returns the sum of the n floats in f64, j in order (as Attention's loop), added as the
  ;; quads come (the chain of additions overlaps the next quads' arithmetic), the last keys after.
  ;; Exported for the tests.
  (func $exps (export "exps") (param $s i32) (param $n i32) (param $max f32) (result f64)
    (local $p i32) (local $end i32) (local $v v128) (local $mx v128) (local $sum f64)
    (local $xa v128) (local $ta v128) (local $ka v128) (local $ra v128) (local $qa v128) (local $na v128) (local $ma v128)
    (local $xb v128) (local $tb v128) (local $kb v128) (local $rb v128) (local $qb v128) (local $nb v128) (local $mb v128)
    (local $lo v128) (local $hi v128) (local $log2e v128) (local $shift v128) (local $ln2hi v128) (local $ln2lo v128) (local $c11 v128)
    (local $c10 v128) (local $c9 v128) (local $c8 v128) (local $c7 v128) (local $c6 v128) (local $c5 v128) (local $c4 v128)
    (local $c3 v128) (local $c2 v128) (local $one v128) (local $sbits v128) (local $bias v128)
    (local.set $lo (v128.const f64x2 -746 -746))
    (local.set $hi (v128.const f64x2 710 710))
    (local.set $log2e (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0))
    (local.set $shift (v128.const f64x2 0x1.8p+52 0x1.8p+52))
    (local.set $ln2hi (v128.const f64x2 0x1.62e42fee00000p-1 0x1.62e42fee00000p-1))
    (local.set $ln2lo (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))
    (local.set $c11 (v128.const f64x2 0x1.af6327bb085ebp-26 0x1.af6327bb085ebp-26))
    (local.set $c10 (v128.const f64x2 0x1.28b40e50912c4p-22 0x1.28b40e50912c4p-22))
    (local.set $c9 (v128.const f64x2 0x1.71ddf6b597349p-19 0x1.71ddf6b597349p-19))
    (local.set $c8 (v128.const f64x2 0x1.a01993b628d70p-16 0x1.a01993b628d70p-16))
    (local.set $c7 (v128.const f64x2 0x1.a01a01b00b972p-13 0x1.a01a01b00b972p-13))
    (local.set $c6 (v128.const f64x2 0x1.6c16c18600f62p-10 0x1.6c16c18600f62p-10))
    (local.set $c5 (v128.const f64x2 0x1.111111110f805p-7 0x1.111111110f805p-7))
    (local.set $c4 (v128.const f64x2 0x1.55555555503e7p-5 0x1.55555555503e7p-5))
    (local.set $c3 (v128.const f64x2 0x1.5555555555558p-3 0x1.5555555555558p-3))
    (local.set $c2 (v128.const f64x2 0x1.0000000000009p-1 0x1.0000000000009p-1))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $sbits (v128.const i64x2 0x4338000000000000 0x4338000000000000))
    (local.set $bias (v128.const i64x2 1023 1023))
    (local.set $mx (f32x4.splat (local.get $max)))
    (local.set $end (i32.add (local.get $s) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $p (local.get $s))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f32x4.sub (v128.load (local.get $p)) (local.get $mx)))
        (local.set $xa (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $xb (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))
        ;; clamp
        (local.set $xa (f64x2.pmin (f64x2.pmax (local.get $xa) (local.get $lo)) (local.get $hi)))
        (local.set $xb (f64x2.pmin (f64x2.pmax (local.get $xb) (local.get $lo)) (local.get $hi)))
        ;; t = x*LOG2E + SHIFT, k = t - SHIFT, r = (x - k*LN2_HI) - k*LN2_LO
        (local.set $ta (f64x2.add (f64x2.mul (local.get $xa) (local.get $log2e)) (local.get $shift)))
        (local.set $tb (f64x2.add (f64x2.mul (local.get $xb) (local.get $log2e)) (local.get $shift)))
        (local.set $ka (f64x2.sub (local.get $ta) (local.get $shift)))
        (local.set $kb (f64x2.sub (local.get $tb) (local.get $shift)))
        (local.set $ra (f64x2.sub (f64x2.sub (local.get $xa) (f64x2.mul (local.get $ka) (local.get $ln2hi)))
          (f64x2.mul (local.get $ka) (local.get $ln2lo))))
        (local.set $rb (f64x2.sub (f64x2.sub (local.get $xb) (f64x2.mul (local.get $kb) (local.get $ln2hi)))
          (f64x2.mul (local.get $kb) (local.get $ln2lo))))
        ;; q = C11*r + C10, then q = q*r + C9 .. C2
        (local.set $qa (f64x2.add (f64x2.mul (local.get $ra) (local.get $c11)) (local.get $c10)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $rb) (local.get $c11)) (local.get $c10)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c9)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c9)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c8)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c8)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c7)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c7)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c6)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c6)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c5)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c5)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c4)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c4)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c3)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c3)))
        (local.set $qa (f64x2.add (f64x2.mul (local.get $qa) (local.get $ra)) (local.get $c2)))
        (local.set $qb (f64x2.add (f64x2.mul (local.get $qb) (local.get $rb)) (local.get $c2)))
        ;; p = 1 + (r + r*r*q), into q
        (local.set $qa (f64x2.add (local.get $one)
          (f64x2.add (local.get $ra) (f64x2.mul (f64x2.mul (local.get $ra) (local.get $ra)) (local.get $qa)))))
        (local.set $qb (f64x2.add (local.get $one)
          (f64x2.add (local.get $rb) (f64x2.mul (f64x2.mul (local.get $rb) (local.get $rb)) (local.get $qb)))))
        ;; n = bits(t) - bits(SHIFT) = k, n1 = n >> 1; x = p * 2^n1 * 2^(n - n1)
        (local.set $na (i64x2.sub (local.get $ta) (local.get $sbits)))
        (local.set $nb (i64x2.sub (local.get $tb) (local.get $sbits)))
        (local.set $ma (i64x2.shr_s (local.get $na) (i32.const 1)))
        (local.set $mb (i64x2.shr_s (local.get $nb) (i32.const 1)))
        (local.set $xa (f64x2.mul
          (f64x2.mul (local.get $qa) (i64x2.shl (i64x2.add (local.get $ma) (local.get $bias)) (i32.const 52)))
          (i64x2.shl (i64x2.add (i64x2.sub (local.get $na) (local.get $ma)) (local.get $bias)) (i32.const 52))))
        (local.set $xb (f64x2.mul
          (f64x2.mul (local.get $qb) (i64x2.shl (i64x2.add (local.get $mb) (local.get $bias)) (i32.const 52)))
          (i64x2.shl (i64x2.add (i64x2.sub (local.get $nb) (local.get $mb)) (local.get $bias)) (i32.const 52))))
        (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $xa)) (f32x4.demote_f64x2_zero (local.get $xb))))
        (v128.store (local.get $p) (local.get $v))
        ;; a whole quad of keys: its four floats into the sum now ($s: the first key not summed)
        (if (i32.le_u (i32.add (local.get $p) (i32.const 16)) (local.get $end))
          (then
            (local.set $xa (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $xb (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $xa))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 1 (local.get $xa))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $xb))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 1 (local.get $xb))))
            (local.set $s (i32.add (local.get $p) (i32.const 16)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $quads)))
    ;; the last keys (fewer than four) into the sum
    (block $sdone
      (loop $rest
        (br_if $sdone (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.load (local.get $s)))))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (br $rest)))
    (local.get $sum))

  ;; The signed low nibbles of 16 bytes, as i8 lanes: ((b & 15) ^ 8) - 8, m15 and m8 holding 15
  ;; and 8 in every byte. (x86 has no 8-bit shifts: i8x16.shl / shr_s cost several instructions
  ;; each; these are one each.) The callers set m15 and m8 once, outside their loops: V8 inlines
  ;; these functions, and a v128.const in a loop costs three instructions every pass.
  (func $lowNibbles (param $b v128) (param $m15 v128) (param $m8 v128) (result v128)
    (i8x16.sub (v128.xor (v128.and (local.get $b) (local.get $m15)) (local.get $m8)) (local.get $m8)))

  ;; The signed high nibbles of 16 bytes, as i8 lanes: (((b >> 4) & 15) ^ 8) - 8.
  (func $highNibbles (param $b v128) (param $m15 v128) (param $m8 v128) (result v128)
    (call $lowNibbles (i16x8.shr_u (local.get $b) (i32.const 4)) (local.get $m15) (local.get $m8)))

  ;; Re-lays a row-major BF16 table [vocab, dim] at p (vocab a multiple of 16) into the blocked
  ;; layout, in place: block b takes exactly the bytes of rows 16b..16b+15. tmp: 32*dim bytes.
  (func (export "blockRows") (param $p i32) (param $vocab i32) (param $dim i32) (param $tmp i32)
    (local $b i32) (local $j i32) (local $i i32) (local $blockBytes i32) (local $src i32) (local $dst i32)
    (local.set $blockBytes (i32.shl (local.get $dim) (i32.const 5)))
    (block $bdone
      (loop $blocks
        (br_if $bdone (i32.ge_s (i32.shl (local.get $b) (i32.const 4)) (local.get $vocab)))
        (memory.copy (local.get $tmp) (local.get $p) (local.get $blockBytes))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $rows
            (br_if $jdone (i32.ge_s (local.get $j) (i32.const 16)))
            (local.set $src (i32.add (local.get $tmp) (i32.mul (local.get $j) (i32.shl (local.get $dim) (i32.const 1)))))
            (local.set $dst (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 1))))
            (local.set $i (local.get $dim))
            (block $idone
              (loop $dims
                (br_if $idone (i32.eqz (local.get $i)))
                (i32.store16 (local.get $dst) (i32.load16_u (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.const 2)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $dims)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rows)))
        (local.set $p (i32.add (local.get $p) (local.get $blockBytes)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks))))

  ;; Address of E[id][0] in the blocked layout (its later values follow every 32 bytes).
  (func $rowStart (param $emb i32) (param $id i32) (param $rowBlock i32) (result i32)
    (i32.add (local.get $emb)
      (i32.add (i32.mul (i32.shr_u (local.get $id) (i32.const 4)) (local.get $rowBlock))
        (i32.shl (i32.and (local.get $id) (i32.const 15)) (i32.const 1)))))
)
