#pragma once
// Small double-precision 3-vectors and rotation matrices for the exporters. The file formats work
// per frame and per joint on a handful of numbers, where plain doubles are exact enough for a
// 1e-4 m round trip and far cheaper than tensors.

#include <array>
#include <cmath>

namespace mp {

using Vec3 = std::array<double, 3>;

struct Mat3 {
    // Row-major; acts on column vectors (v' = M v).
    std::array<std::array<double, 3>, 3> m{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};

    static Mat3 identity() { return {}; }
    static Mat3 fromColumns(const Vec3 &x, const Vec3 &y, const Vec3 &z)
    {
        Mat3 r;
        for (int i = 0; i < 3; ++i) {
            r.m[i][0] = x[i];
            r.m[i][1] = y[i];
            r.m[i][2] = z[i];
        }
        return r;
    }
    // Rotation by angle (radians) about a coordinate axis (0 = X, 1 = Y, 2 = Z).
    static Mat3 axisRotation(int axis, double angle)
    {
        const double c = std::cos(angle), s = std::sin(angle);
        Mat3 r;
        const int a = (axis + 1) % 3, b = (axis + 2) % 3;
        r.m[a][a] = c;
        r.m[a][b] = -s;
        r.m[b][a] = s;
        r.m[b][b] = c;
        return r;
    }
    Vec3 column(int j) const { return {m[0][j], m[1][j], m[2][j]}; }
    Mat3 transposed() const
    {
        Mat3 r;
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
                r.m[i][j] = m[j][i];
        return r;
    }
};

inline Mat3 operator*(const Mat3 &a, const Mat3 &b)
{
    Mat3 r;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            r.m[i][j] = a.m[i][0] * b.m[0][j] + a.m[i][1] * b.m[1][j] + a.m[i][2] * b.m[2][j];
    return r;
}

inline Vec3 operator*(const Mat3 &a, const Vec3 &v)
{
    return {a.m[0][0] * v[0] + a.m[0][1] * v[1] + a.m[0][2] * v[2],
            a.m[1][0] * v[0] + a.m[1][1] * v[1] + a.m[1][2] * v[2],
            a.m[2][0] * v[0] + a.m[2][1] * v[1] + a.m[2][2] * v[2]};
}

inline Vec3 operator+(const Vec3 &a, const Vec3 &b)
{
    return {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
}
inline Vec3 operator-(const Vec3 &a, const Vec3 &b)
{
    return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}
inline Vec3 operator*(double s, const Vec3 &a)
{
    return {s * a[0], s * a[1], s * a[2]};
}
inline double dot(const Vec3 &a, const Vec3 &b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
inline Vec3 cross(const Vec3 &a, const Vec3 &b)
{
    return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
inline double norm(const Vec3 &a)
{
    return std::sqrt(dot(a, a));
}

// Unit quaternion (w, x, y, z) of a rotation matrix (Shepperd's method, stable for all angles).
inline std::array<double, 4> quaternionFromMatrix(const Mat3 &r)
{
    const auto &m = r.m;
    const double trace = m[0][0] + m[1][1] + m[2][2];
    std::array<double, 4> q;
    if (trace > 0) {
        const double s = 2.0 * std::sqrt(1.0 + trace);
        q = {0.25 * s, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s};
    } else if (m[0][0] > m[1][1] && m[0][0] > m[2][2]) {
        const double s = 2.0 * std::sqrt(1.0 + m[0][0] - m[1][1] - m[2][2]);
        q = {(m[2][1] - m[1][2]) / s, 0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s};
    } else if (m[1][1] > m[2][2]) {
        const double s = 2.0 * std::sqrt(1.0 + m[1][1] - m[0][0] - m[2][2]);
        q = {(m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s};
    } else {
        const double s = 2.0 * std::sqrt(1.0 + m[2][2] - m[0][0] - m[1][1]);
        q = {(m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s};
    }
    const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (double &c : q)
        c /= n;
    return q;
}

inline Mat3 matrixFromQuaternion(const std::array<double, 4> &q)
{
    const double w = q[0], x = q[1], y = q[2], z = q[3];
    Mat3 r;
    r.m = {{{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
            {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
            {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}}};
    return r;
}

} // namespace mp
