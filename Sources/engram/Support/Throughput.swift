import EngramIndex

/// Hardware reference figures printed beside flat-index results, so each number says how close it
/// comes to what this machine can do: sgemm GFLOP/s for batches, streaming-read GB/s for scans.
enum Throughput {
    static func flatFigures(n: Int, dim: Int, qps: Double, batch: Bool, threads: Int) -> [String: Double] {
        let bytesPerQuery = Double(n) * Double(dim) * 4
        if batch {
            return ["gflops": round1(bytesPerQuery / 2 * qps / 1e9),
                    "sgemm_peak_gflops": round1(BLASRuntime.measureSGEMM(m: 2048, n: 2048, k: 2048, threads: threads))]
        }
        let stream = MemoryBandwidth.streamingReadGBs(bytes: max(Int(bytesPerQuery), 256 << 20), threads: threads)
        return ["scan_gbs": round1(bytesPerQuery * qps / 1e9), "stream_read_gbs": round1(stream)]
    }

    private static func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
}
