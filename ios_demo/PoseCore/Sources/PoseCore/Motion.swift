import Foundation

/// One-Euro filter (Casiez et al. 2012) over a fixed-size vector, as mhp.infer.smoothing. Times in seconds.
public final class OneEuroFilter {
    private let minCutoff: Double
    private let beta: Double
    private let dCutoff: Double
    private var value: [Double]?
    private var speed: [Double]?
    private var time = 0.0

    public init(minCutoff: Double = 1.0, beta: Double = 0.05, dCutoff: Double = 1.0) {
        self.minCutoff = minCutoff
        self.beta = beta
        self.dCutoff = dCutoff
    }

    private func alpha(_ cutoff: Double, _ dt: Double) -> Double {
        1.0 / (1.0 + 1.0 / (2 * Double.pi * cutoff) / dt)
    }

    public func reset() {
        value = nil
        speed = nil
    }

    public func filter(_ values: [Double], t: Double) -> [Double] {
        guard let last = value, var lastSpeed = speed, last.count == values.count, t > time else {
            value = values
            speed = [Double](repeating: 0, count: values.count)
            time = t
            return values
        }
        let dt = t - time
        let aD = alpha(dCutoff, dt)
        var out = [Double](repeating: 0, count: values.count)
        for i in values.indices {
            lastSpeed[i] = aD * (values[i] - last[i]) / dt + (1 - aD) * lastSpeed[i]
            let a = alpha(minCutoff + beta * abs(lastSpeed[i]), dt)
            out[i] = a * values[i] + (1 - a) * last[i]
        }
        speed = lastSpeed
        value = out
        time = t
        return out
    }
}

/// Frames per second over the last `window` frames; the clock is injected (nanoseconds).
public final class FpsMeter {
    private let window: Int
    private let clock: () -> Int64
    private var stamps: [Int64] = []

    public init(window: Int = 30, clock: @escaping () -> Int64 = monotonicNanos) {
        self.window = window
        self.clock = clock
    }

    public func tick() -> Double {
        stamps.append(clock())
        if stamps.count > window {
            stamps.removeFirst()
        }
        guard stamps.count >= 2, let first = stamps.first, let last = stamps.last else {
            return 0.0
        }
        return Double(stamps.count - 1) * 1e9 / Double(last - first)
    }
}

/// Nanoseconds of a monotonic clock (Kotlin's System.nanoTime).
@usableFromInline
func monotonicNanos() -> Int64 {
    Int64(clamping: DispatchTime.now().uptimeNanoseconds)
}

/// Orthographic orbit view of root-relative camera millimetres (x right, y down, z forward) for the 3D view.
public enum Projection {
    public static func project(_ point: [Double], yawDegrees: Double, pitchDegrees: Double, scale: Double) -> [Double] {
        let yaw = yawDegrees * Double.pi / 180
        let pitch = pitchDegrees * Double.pi / 180
        let x = cos(yaw) * point[0] + sin(yaw) * point[2]
        let z = -sin(yaw) * point[0] + cos(yaw) * point[2]
        let y = cos(pitch) * point[1] - sin(pitch) * z
        return [x * scale, y * scale]
    }
}
