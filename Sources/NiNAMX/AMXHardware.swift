// The AMX tile instructions on the hardware: each operation of `AMXTiles` maps a tile number to
// its wrapper in nin_amx.h. Called with constant tile numbers from an inlined driver, each
// switch folds to the one instruction. Only where ninpriv_cpu_has_amx() said yes (the CPU has
// AMX-TILE and AMX-INT8 and the kernel granted this process the tile data state).

import CNiNAMX
import NiNAMXTiles
import NiNPlatform

/// The AMX instructions themselves.
public enum AMXHardware: AMXTiles {
    @inline(__always)
    public static func loadConfiguration(_ configuration: UnsafeRawPointer) {
        nin_amx_ldtilecfg(configuration)
        setHoldsConvolutionConfiguration(false)  // (any configuration, until configureOnce says)
    }

    @inline(__always)
    public static func zero(_ tile: Int) {
        switch tile {
        case 0: nin_amx_tilezero_0()
        case 1: nin_amx_tilezero_1()
        case 2: nin_amx_tilezero_2()
        case 3: nin_amx_tilezero_3()
        case 4: nin_amx_tilezero_4()
        case 5: nin_amx_tilezero_5()
        case 6: nin_amx_tilezero_6()
        case 7: nin_amx_tilezero_7()
        default: fatalError("AMX: no tile \(tile)")
        }
    }

    @inline(__always)
    public static func load(_ tile: Int, from base: UnsafeRawPointer, stride: Int) {
        switch tile {
        case 0: nin_amx_tileloadd_0(base, stride)
        case 1: nin_amx_tileloadd_1(base, stride)
        case 2: nin_amx_tileloadd_2(base, stride)
        case 3: nin_amx_tileloadd_3(base, stride)
        case 4: nin_amx_tileloadd_4(base, stride)
        case 5: nin_amx_tileloadd_5(base, stride)
        case 6: nin_amx_tileloadd_6(base, stride)
        case 7: nin_amx_tileloadd_7(base, stride)
        default: fatalError("AMX: no tile \(tile)")
        }
    }

    @inline(__always)
    public static func store(_ tile: Int, to base: UnsafeMutableRawPointer, stride: Int) {
        switch tile {
        case 0: nin_amx_tilestored_0(base, stride)
        case 1: nin_amx_tilestored_1(base, stride)
        case 2: nin_amx_tilestored_2(base, stride)
        case 3: nin_amx_tilestored_3(base, stride)
        case 4: nin_amx_tilestored_4(base, stride)
        case 5: nin_amx_tilestored_5(base, stride)
        case 6: nin_amx_tilestored_6(base, stride)
        case 7: nin_amx_tilestored_7(base, stride)
        default: fatalError("AMX: no tile \(tile)")
        }
    }

    @inline(__always)
    public static func dotProduct(_ c: Int, _ a: Int, _ b: Int) {
        switch (c, a, b) {
        case (0, 4, 6): nin_amx_tdpbusd_0_4_6()
        case (1, 4, 7): nin_amx_tdpbusd_1_4_7()
        case (2, 5, 6): nin_amx_tdpbusd_2_5_6()
        case (3, 5, 7): nin_amx_tdpbusd_3_5_7()
        default: fatalError("AMX: no tdpbusd wrapper for tiles \(c), \(a), \(b)")
        }
    }

    @inline(__always)
    public static func release() {
        nin_amx_tilerelease()
        setHoldsConvolutionConfiguration(false)
    }

    public static var holdsConvolutionConfiguration: Bool { hardwareConfiguredKey.value != nil }

    public static func setHoldsConvolutionConfiguration(_ holds: Bool) {
        hardwareConfiguredKey.value = holds ? UnsafeMutableRawPointer(bitPattern: 1) : nil
    }
}

/// Per thread: non-nil while the thread's AMX tiles hold the convolution's configuration.
private let hardwareConfiguredKey = Platform.ThreadLocalKey(owner: "AMX", destructor: nil)
