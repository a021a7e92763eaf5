package mhp.demo

import android.annotation.SuppressLint
import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.util.AttributeSet
import android.view.MotionEvent
import android.view.View
import mhp.posecore.Projection
import mhp.posecore.Skeleton

/** The root-relative 3D skeleton in an orbit view; drag to turn it (posecore's Projection does the maths). */
class SkeletonView(context: Context, attrs: AttributeSet? = null) : View(context, attrs) {
    private val bone = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.rgb(120, 255, 140)
        strokeWidth = 5f
    }
    private val frame = Paint().apply { color = Color.argb(140, 0, 0, 0) }
    private var jointsMm: Array<DoubleArray>? = null
    private var skeleton: Skeleton? = null
    private var yaw = 30.0
    private var pitch = -10.0
    private var lastX = 0f
    private var lastY = 0f

    /** The front camera's preview is mirrored: so is the 3D view's x axis, to move with it. */
    var mirrored = false

    fun show(jointsMm: Array<DoubleArray>?, skeleton: Skeleton?) {
        this.jointsMm = jointsMm
        this.skeleton = skeleton
        invalidate()
    }

    @SuppressLint("ClickableViewAccessibility")
    override fun onTouchEvent(event: MotionEvent): Boolean {
        when (event.actionMasked) {
            MotionEvent.ACTION_DOWN -> Unit
            MotionEvent.ACTION_MOVE -> {
                yaw += (event.x - lastX) * 0.5
                pitch = (pitch - (event.y - lastY) * 0.5).coerceIn(-89.0, 89.0)
                invalidate()
            }
            else -> return super.onTouchEvent(event)
        }
        lastX = event.x
        lastY = event.y
        return true
    }

    override fun onDraw(canvas: Canvas) {
        canvas.drawRect(0f, 0f, width.toFloat(), height.toFloat(), frame)
        val joints = jointsMm ?: return
        val bones = skeleton ?: return
        val scale = minOf(width, height) / VIEW_SPAN_MM
        val points = joints.map { Projection.project(if (mirrored) doubleArrayOf(-it[0], it[1], it[2]) else it, yaw, pitch, scale) }
        for ((a, b) in bones.bones) {
            canvas.drawLine(
                (width / 2 + points[a][0]).toFloat(), (height / 2 + points[a][1]).toFloat(),
                (width / 2 + points[b][0]).toFloat(), (height / 2 + points[b][1]).toFloat(), bone,
            )
        }
    }

    private companion object {
        /** Millimetres across the view: a standing adult with some margin. */
        const val VIEW_SPAN_MM = 2400.0
    }
}
