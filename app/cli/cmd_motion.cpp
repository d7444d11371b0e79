// motionpref-cli motion ...: motion files. The work is in app/export/motion_io (the GUI's Export
// panel calls the same functions); this file only maps flags to options.

#include "app/cli/context.h"
#include "app/export/motion_io.h"
#include "ml/core/error.h"

#include <iostream>

namespace mp::cli {
namespace {

LengthUnit parseUnits(const std::string &text)
{
    if (text == "m")
        return LengthUnit::Metres;
    if (text == "cm")
        return LengthUnit::Centimetres;
    throw InputError("--units must be m or cm, got '" + text + "'");
}

NpyContent parseNpyContent(const std::string &text)
{
    if (text == "joints")
        return NpyContent::Joints;
    if (text == "features")
        return NpyContent::Features;
    throw InputError("--npy must be joints or features, got '" + text + "'");
}

int runConvert(const ParsedArgs &args, const Context &context)
{
    ConvertOptions options;
    if (const auto fps = args.optional("fps")) {
        const double value = args.doubleValue("fps");
        if (!(value > 0) || value > 10000)
            throw InputError("--fps must be a positive frame rate, got '" + *fps + "'");
        options.read.fps = value;  // the rate of a .npy input, which carries none
        options.write.fps = value; // and of the output (relabelled, never resampled)
    }
    options.write.units = parseUnits(args.value("units"));
    options.write.npyContent = parseNpyContent(args.value("npy"));
    const std::string summary =
        convertMotion(args.positional(0, "IN"), args.positional(1, "OUT"), options);
    if (!context.quiet)
        std::cout << summary << "\n";
    return 0;
}

const CommandRegistration convertCommand{{
    .path = "motion convert",
    .summary = "convert a motion between .npy (joints/features), .bvh and .fbx",
    .usage = "IN OUT",
    .description =
        "Converts by file extension:\n" + motionFormatsHelp() +
        "Joints are metres, Y up. A .npy has no frame rate: --fps gives it (default 20).\n"
        "--fps on other inputs relabels the frame rate without resampling.",
    .options = {{"fps", "F", "frames per second (.npy input: its rate; default: the input's)", ""},
                {"units", "m|cm", "length unit of BVH/FBX output", "m"},
                {"npy", "joints|features", "what a .npy output holds", "joints"}},
    .usesTorch = true,
    .run = runConvert,
}};

} // namespace
} // namespace mp::cli
