#include "ui/compare/path_field.h"

#include <QDir>
#include <QFocusEvent>
#include <QSignalBlocker>

namespace mp {

PathField::PathField(Namer namer, QString description, QWidget *parent)
    : QLineEdit(parent), m_namer(std::move(namer)), m_description(std::move(description))
{
    connect(this, &QLineEdit::textEdited, this, [this](const QString &text) {
        m_typed = true;
        if (text.isEmpty() && !m_path.isEmpty() && !hasFocus()) // the clear button
            takeTyped();
    });
    connect(this, &QLineEdit::returnPressed, this, &PathField::takeTyped);
    showPath();
}

void PathField::setPath(const QString &path)
{
    m_path = path;
    m_typed = false;
    showPath();
}

void PathField::focusInEvent(QFocusEvent *event)
{
    showPath();
    QLineEdit::focusInEvent(event);
}

void PathField::focusOutEvent(QFocusEvent *event)
{
    takeTyped(); // before QLineEdit's own handling: the text is still what was typed
    QLineEdit::focusOutEvent(event);
}

void PathField::takeTyped()
{
    if (m_typed) {
        m_typed = false;
        const QString typed = QDir::fromNativeSeparators(text().trimmed());
        if (typed != m_path) {
            m_path = typed;
            showPath();
            emit pathEdited();
            return;
        }
    }
    showPath();
}

void PathField::showPath()
{
    const QSignalBlocker quiet(this); // showing is no edit
    const QString native = QDir::toNativeSeparators(m_path);
    if (hasFocus()) {
        if (!m_typed)
            setText(native);
    } else {
        setText(m_path.isEmpty() ? QString() : m_namer(m_path));
    }
    setToolTip(m_path.isEmpty() ? m_description : m_description + QLatin1Char('\n') + native);
}

} // namespace mp
