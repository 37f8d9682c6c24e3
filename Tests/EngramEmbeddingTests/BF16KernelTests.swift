import CEngramKernels
import Testing

@Suite("bf16 dense-layer kernel")
struct BF16KernelTests {
    /// Deterministic values in -1...1.
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
        }
    }

    @Test("rounding to bf16: nearest, ties to even, NaN kept, infinities exact; rows padded to even width")
    func rounding() {
        #expect(engram_bf16_round(1) == 0x3F80 && engram_bf16_round(-2) == 0xC000)
        #expect(engram_bf16_round(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // a tie rounds to the even 0x3F80
        #expect(engram_bf16_round(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // and to the even 0x3F82
        #expect(engram_bf16_round(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(engram_bf16_round(.infinity) == 0x7F80)
        let nan = engram_bf16_round(.nan)
        #expect(nan & 0x7F80 == 0x7F80 && nan & 0x7F != 0)
        // The row conversion (vectorized where the CPU has BF16) rounds as the scalar does.
        let x = Self.values(3 * 37, seed: 1).map { $0 * 1000 }
        var out = [UInt16](repeating: 0xFFFF, count: 3 * 38)
        engram_bf16_rows(x, 3, 37, &out)
        for r in 0..<3 {
            #expect((0..<37).allSatisfy { out[r * 38 + $0] == engram_bf16_round(x[r * 37 + $0]) })
            #expect(out[r * 38 + 37] == 0)
        }
    }

    @Test("the AVX-512 BF16 product equals the scalar reference for any shape; columns outside its panels are untouched",
          .enabled(if: engram_cpu_has_bf16() != 0, "no AVX-512 BF16 on this CPU"),
          arguments: [(1, 2, 16), (7, 37, 50), (8, 384, 96), (19, 1536, 33), (25, 64, 1152)])
    func matchesScalar(rows: Int, inputs: Int, outputs: Int) {
        let pairs = (inputs + 1) / 2, blocks = (outputs + 15) / 16
        let w = Self.values(outputs * inputs, seed: 2)
        let x = Self.values(rows * inputs, seed: 3)
        var panels = [UInt16](repeating: 0, count: engram_bf16_panel_count(outputs, inputs))
        engram_bf16_pack_weights(w, outputs, inputs, &panels)
        var a = [UInt16](repeating: 0, count: rows * 2 * pairs)
        engram_bf16_rows(x, rows, inputs, &a)
        // Every split of the panels (a thread's share starts at any panel, odd counts included).
        for first in Set([0, blocks / 2, blocks - 1]) {
            let count = blocks - first
            let start = Self.values(rows * outputs, seed: 4)
            var fast = start, slow = start
            engram_gemm_bf16_avx512(a, rows, pairs, panels, first, count, &fast, outputs, outputs)
            engram_gemm_bf16_scalar(a, rows, pairs, panels, first, count, &slow, outputs, outputs)
            for r in 0..<rows {
                for o in 0..<outputs {
                    let i = r * outputs + o
                    if o < first * 16 {
                        #expect(fast[i] == start[i] && slow[i] == start[i])
                    } else {
                        #expect(abs(fast[i] - slow[i]) <= 1e-5 * Float(inputs), "row \(r) column \(o): \(fast[i]) vs \(slow[i])")
                    }
                }
            }
            // The scalar reference is the exact product of the rounded operands (summed in f32).
            let r = rows - 1, o = outputs - 1
            var exact: Double = 0
            for i in 0..<inputs {
                let xb = Float(bitPattern: UInt32(engram_bf16_round(x[r * inputs + i])) << 16)
                let wb = Float(bitPattern: UInt32(engram_bf16_round(w[o * inputs + i])) << 16)
                exact += Double(xb) * Double(wb)
            }
            #expect(abs(Double(slow[r * outputs + o] - start[r * outputs + o]) - exact) <= 1e-5 * Double(inputs))
        }
    }
}
