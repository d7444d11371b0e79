#pragma once
// Colours and sizes shared by every skeleton renderer and by the legends that explain them.
// Left and right come from the Okabe-Ito palette (orange / sky blue), which stays distinct for
// the common forms of colour blindness and on both dark and light backgrounds.

#include "ml/motion/motion_clip.h"

#include <QColor>

namespace mp {

inline QColor sideColor(BodySide side)
{
    switch (side) {
    case BodySide::Left:
        return QColor(0xE6, 0x9F, 0x00); // orange
    case BodySide::Right:
        return QColor(0x56, 0xB4, 0xE9); // sky blue
    case BodySide::Center:
        break;
    }
    return QColor(0xD8, 0xD8, 0xD8); // light grey: neither side
}

inline QColor viewBackgroundColor()
{
    return QColor(0x26, 0x2A, 0x31);
}
inline QColor gridColor()
{
    return QColor(0x55, 0x5C, 0x66);
}
inline QColor gridAxisColor()
{
    return QColor(0x7A, 0x83, 0x8F);
}
// Reddish purple (Okabe-Ito): away from both side colours, so the trace never reads as a limb.
inline QColor trajectoryColor()
{
    return QColor(0xCC, 0x79, 0xA7);
}
// Bluish green (Okabe-Ito) for planted feet.
inline QColor contactColor()
{
    return QColor(0x00, 0x9E, 0x73);
}

} // namespace mp
