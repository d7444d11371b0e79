#pragma once
// One model of the Compare panel: a bundle directory (the embedded default unless changed) and
// an optional LoRA adapter directory, each typed or browsed, with a status line that says what
// is there ("no config.json in ...") before anything is loaded, and what was loaded after.
// A field shows the model's name ("embedded default", "dpo-sigmoid/best") with the path in its
// tooltip, and the path itself while it has the focus, to be edited.

#include "app/compare/ab_session.h"

#include <QGroupBox>
#include <QHash>

class QLabel;
class QLineEdit;

namespace mp {

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

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void browseBundle();
    void browseAdapter();
    void commit();
    void showStatus(const QString &text, bool error);
    // The fields' text from m_model: names, or the path in a field being edited.
    void showModel();
    void takeTypedPath(QLineEdit *field);

    QString m_defaultBundle;
    QLineEdit *m_bundle = nullptr;
    QLineEdit *m_adapter = nullptr;
    QLabel *m_status = nullptr;
    AbModelRef m_model; // what the fields hold (cleaned paths)
    AbModelRef m_committed;
    QHash<QString, QString> m_descriptions; // of the models loaded so far, by "bundle\nadapter"
};

} // namespace mp
