#pragma once
// One model of the Compare panel: a bundle directory (the embedded default unless changed) and
// an optional LoRA adapter directory, each typed or browsed, with a status line that says what
// is there ("no config.json in ...") before anything is loaded, and what was loaded after.
// A field shows the model's name ("embedded default", "dpo-sigmoid/best") with the path in its
// tooltip, and the path itself while it has the focus, to be edited (PathField).

#include "app/compare/ab_session.h"

#include <QGroupBox>
#include <QHash>

class QLabel;

namespace mp {

class PathField;

class ModelPicker : public QGroupBox {
    Q_OBJECT
public:
    ModelPicker(const QString &title, const QString &defaultBundle, QWidget *parent = nullptr);

    AbModelRef model() const;
    void setModel(const AbModelRef &model);
    // A problem seen on disk (missing bundle or adapter files); empty when it looks loadable.
    QString problem() const;
    // After a generation: what was loaded, or the loading error.
    void setLoaded(const QString &description);
    void setLoadError(const QString &error);

signals:
    void modelChanged();

private:
    void browseBundle();
    void browseAdapter();
    void commit();
    void showStatus(const QString &text, bool error);

    QString m_defaultBundle;
    PathField *m_bundle = nullptr;
    PathField *m_adapter = nullptr;
    QLabel *m_status = nullptr;
    AbModelRef m_committed;
    QHash<QString, QString> m_descriptions; // of the models loaded so far, by "bundle\nadapter"
};

} // namespace mp
