#pragma once
// A path (a directory, a file, or a study's connection string) in a line edit that shows a short
// name ("embedded default", "dpo-sigmoid/best", "lab.mpstudy") instead, so that no machine path
// fills the window: the path is in the tooltip, and in the field while it has the focus, to be
// edited. A typed path is taken on Return or on leaving the field, or at once when cleared.

#include <QLineEdit>

#include <functional>

namespace mp {

class PathField : public QLineEdit {
    Q_OBJECT
public:
    using Namer = std::function<QString(const QString &path)>;
    // NAMER gives the name shown for a non-empty path; DESCRIPTION opens the tooltip.
    PathField(Namer namer, QString description, QWidget *parent = nullptr);

    QString path() const { return m_path; } // as set or typed (separators made '/')
    void setPath(const QString &path);      // no pathEdited

signals:
    void pathEdited(); // the user typed or cleared a different path

protected:
    void focusInEvent(QFocusEvent *event) override;
    void focusOutEvent(QFocusEvent *event) override;

private:
    void takeTyped();
    void showPath(); // the name, or the path while the field has the focus

    Namer m_namer;
    QString m_description;
    QString m_path;
    bool m_typed = false; // edited since the path was last shown
};

} // namespace mp
