package mhp.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.util.AttributeSet
import android.view.View
import mhp.posecore.FrameResult
import mhp.posecore.Skeleton
import mhp.posecore.ViewFit

/**
 * The 2D skeleton and the crop box drawn over the camera preview (FILL_CENTER, mirrored for the front camera), only
 * when the frame shows a person; on frames where the person detector ran, the boxes of the people it found.
 */
class OverlayView(context: Context, attrs: AttributeSet? = null) : View(context, attrs) {
    private val bone = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.rgb(0, 220, 255)
        strokeWidth = 6f
    }
    private val joint = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = Color.rgb(255, 200, 0) }
    private val crop = Paint().apply {
        color = Color.argb(160, 255, 255, 255)
        style = Paint.Style.STROKE
        strokeWidth = 2f
    }
    private val found = Paint().apply {
        color = Color.rgb(255, 140, 0)
        style = Paint.Style.STROKE
        strokeWidth = 4f
    }
    private var result: FrameResult? = null
    private var skeleton: Skeleton? = null
    var mirrored = false

    fun show(result: FrameResult?, skeleton: Skeleton?) {
        this.result = result
        this.skeleton = skeleton
        invalidate()
    }

    override fun onDraw(canvas: Canvas) {
        val shown = result ?: return
        val fit = ViewFit(shown.uprightWidth, shown.uprightHeight, width, height, mirrored)
        if (shown.detectorRan) {
            for (detection in shown.detections) drawBox(canvas, fit, detection.personBox(shown.uprightWidth, shown.uprightHeight), found)
        }
        if (!shown.person) return // nobody shown: no skeleton; the status line says "no person"
        val pose = shown.pose ?: return
        val bones = skeleton ?: return
        drawBox(canvas, fit, pose.cropBox, crop)
        val points = pose.jointsImage.map { fit.map(it[0], it[1]) }
        for ((a, b) in bones.bones) {
            canvas.drawLine(points[a][0].toFloat(), points[a][1].toFloat(), points[b][0].toFloat(), points[b][1].toFloat(), bone)
        }
        for (p in points) canvas.drawCircle(p[0].toFloat(), p[1].toFloat(), 8f, joint)
    }

    /** An [x, y, w, h] box in upright frame pixels. */
    private fun drawBox(canvas: Canvas, fit: ViewFit, box: DoubleArray, paint: Paint) {
        val corner = fit.map(box[0], box[1])
        val opposite = fit.map(box[0] + box[2], box[1] + box[3])
        canvas.drawRect(minOf(corner[0], opposite[0]).toFloat(), corner[1].toFloat(), maxOf(corner[0], opposite[0]).toFloat(), opposite[1].toFloat(), paint)
    }
}
